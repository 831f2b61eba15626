/* pal-dataset.h: expression datasets as (image, 68 landmarks, label) samples
 *
 * Four layouts are read (docs/DATASETS.md has the details and the label
 * tables): RAF-DB basic, AffectNet, FER2013 (or its FER+ relabelling) and a
 * plain folder with one subfolder per class.  Every dataset's own label
 * codes are mapped to one canonical order, pal_expression_classes
 * (pal-model.h): 0 neutral, 1 happy, 2 sad, 3 surprise, 4 fear, 5 disgust,
 * 6 anger, plus 7 contempt where the option include_contempt asks for it.
 *
 * Only metadata is kept in memory (paths, labels, landmarks, face boxes);
 * images are decoded by pal_dataset_load_image().  FER2013's pixels live in
 * the CSV file, so they are kept, 2304 bytes a sample, in one block.
 *
 * A row that cannot be read (wrong field count, a bad number, an unknown
 * label code, a wrong pixel count, a bad landmark field or file) is a
 * broken row: it is recorded as an issue naming the file and the line
 * ("training.csv:17: ...") and skipped, or with the option strict it makes
 * pal_dataset_open() fail.  Rows excluded by a dataset's protocol (AffectNet
 * None / Uncertain / No-face, contempt without include_contempt, FER+
 * ties) are not broken: they are only counted.  A missing landmark file is
 * neither: the sample is kept without landmarks and counted.
 *
 * Splits: the dataset's own train and test (and validation where it has
 * one, FER2013's PublicTest); pal_dataset_make_validation() draws a
 * validation split from train with the test set's class proportions.
 * PalBalancedSampler draws classes uniformly, then a sample of the class.
 *
 * A PalDataset is not changed by pal_dataset_get(), pal_dataset_load_image()
 * or the counters, which may be called from several threads at once;
 * pal_dataset_make_validation() changes the splits and must not run
 * concurrently with anything else on the same dataset.
 */
#pragma once

#include <glib.h>

#include "pal-image.h"
#include "pal-landmarks.h"
#include "pal-loader.h"

G_BEGIN_DECLS

typedef enum {
  PAL_DATASET_AUTO,        /* detected from the files under the root */
  PAL_DATASET_RAFDB,       /* RAF-DB basic */
  PAL_DATASET_AFFECTNET,   /* AffectNet (manually annotated part) */
  PAL_DATASET_FER2013,     /* fer2013.csv with its own labels */
  PAL_DATASET_FERPLUS,     /* fer2013.csv's pixels, fer2013new.csv's majority labels */
  PAL_DATASET_FOLDER,      /* one subfolder per class (optionally under train/ val/ test/) */
} PalDatasetFormat;

typedef enum {
  PAL_SPLIT_TRAIN,
  PAL_SPLIT_VAL,
  PAL_SPLIT_TEST,
  PAL_SPLIT_ALL,           /* only as an argument: every sample */
} PalSplit;

#define PAL_N_SPLITS 3

/* Why a row was not kept.  The first group are broken rows (issues,
 * fatal with strict); the second group are rows that the dataset's
 * protocol leaves out. */
typedef enum {
  PAL_SKIP_FIELD_COUNT,     /* wrong number of fields */
  PAL_SKIP_BAD_NUMBER,      /* not a number, or out of range (an empty face box) */
  PAL_SKIP_UNKNOWN_CODE,    /* a label code (or class folder) not in the dataset's table */
  PAL_SKIP_BAD_SPLIT,       /* RAF-DB name without train_/test_, FER2013 Usage unknown */
  PAL_SKIP_BAD_PIXELS,      /* FER2013: not 2304 values in 0..255 */
  PAL_SKIP_BAD_LANDMARKS,   /* a bad AffectNet landmark field or an unreadable .pts */
  PAL_SKIP_MISSING_IMAGE,   /* only with check_images: the image file does not exist */
  PAL_SKIP_CONTEMPT,        /* contempt without include_contempt */
  PAL_SKIP_NONE,            /* AffectNet 8 "None" */
  PAL_SKIP_UNCERTAIN,       /* AffectNet 9 "Uncertain", FER+ "unknown" majority */
  PAL_SKIP_NO_FACE,         /* AffectNet 10 "No-Face", FER+ "NF" majority */
  PAL_SKIP_TIE,             /* FER+: two or more classes share the most votes */
  PAL_N_SKIP_REASONS,
} PalSkipReason;

/* Reasons up to this one are broken rows. */
#define PAL_SKIP_LAST_BROKEN PAL_SKIP_MISSING_IMAGE

/* Every field may stay 0 / NULL: that is the default. */
typedef struct {
  gboolean    strict;            /* a broken row makes pal_dataset_open() fail */
  gboolean    include_contempt;  /* contempt (AffectNet 7, FER+, folder "contempt") as class 7 */
  gboolean    check_images;      /* check at open that each image file exists */
  gboolean    raf_original;      /* RAF-DB: Image/original/<name> instead of
                                  * Image/aligned/<stem>_aligned.jpg */
  const char *image_dir;         /* RAF-DB: <root>/Image/aligned (or Image/original);
                                  * AffectNet: <root>/Manually_Annotated_Images */
  const char *landmarks_dir;     /* .pts files named after the image's stem.
                                  * RAF-DB: <root>/Landmarks; folder: beside the image */
  const char *ferplus_csv;       /* FER+: <root>/fer2013new.csv */
  int         max_issues;        /* issues kept as messages (counts stay exact); 0: 1000 */
} PalDatasetOptions;

typedef struct {
  const char         *path;           /* image file; NULL when pixels is set */
  const guint8       *pixels;         /* FER2013: 48 x 48 gray in memory; else NULL */
  int                 label;          /* canonical class, 0 .. n_classes - 1 */
  PalSplit            split;          /* train, val or test */
  int                 line;           /* line in the label file (1-based), 0 if none */
  gboolean            has_landmarks;
  const PalLandmarks *landmarks;      /* in the original image's pixel frame; NULL if none */
  gboolean            has_box;        /* AffectNet: the face box, cropped at load */
  int                 box[4];         /* x, y, width, height in the original image */
} PalSample;

/* A broken row, as recorded. */
typedef struct {
  PalSkipReason reason;
  const char   *file;         /* the label file (or .pts / class folder) */
  int           line;         /* 1-based, 0 when the issue is a whole file or folder */
  const char   *message;      /* "FILE:LINE: what is wrong" */
} PalDatasetIssue;

typedef struct _PalDataset PalDataset;

/* Reads the metadata of the dataset at @root.  @opt may be NULL.
 * Fails (PAL_ERROR_IO) if the label files cannot be read, (PAL_ERROR_PARSE)
 * on a malformed header or, with strict, on the first broken row, and
 * (PAL_ERROR_INVALID) when no sample is left. */
PalDataset  *pal_dataset_open          (const char *root, PalDatasetFormat format,
                                        const PalDatasetOptions *opt, GError **error);
PalDataset  *pal_dataset_ref           (PalDataset *ds);
void         pal_dataset_unref         (PalDataset *ds);

/* What AUTO picks for @root: RAF-DB if EmoLabel/list_patition_label.txt
 * exists, AffectNet if training.csv or validation.csv (at the root or under
 * Manually_Annotated_file_lists/), FER2013 if fer2013.csv, else folder. */
PalDatasetFormat pal_dataset_detect    (const char *root);
PalDatasetFormat pal_dataset_get_format (PalDataset *ds);
/* "rafdb", "affectnet", "fer2013", "ferplus", "folder", "auto" */
const char  *pal_dataset_format_name   (PalDatasetFormat format);
/* The inverse (also "raf-db", "fer+", case-insensitive). */
gboolean     pal_dataset_format_from_string (const char *s, PalDatasetFormat *out,
                                             GError **error);
const char  *pal_dataset_get_root      (PalDataset *ds);

/* Samples kept, in file order. */
int          pal_dataset_get_n         (PalDataset *ds);
const PalSample *pal_dataset_get       (PalDataset *ds, int i);

/* The class names in canonical order (7, or 8 with contempt); the table is
 * NULL-terminated and owned by @ds. */
const char *const *pal_dataset_class_names (PalDataset *ds, int *n_classes);
int          pal_dataset_get_n_classes (PalDataset *ds);

/* Decodes sample @i.  With @lm_out and a sample with landmarks, stores its
 * landmarks in the returned image's frame (shifted by the AffectNet crop);
 * @lm_out is untouched for a sample without landmarks.  AffectNet's face
 * box is clipped to the image, then cropped. */
PalImage    *pal_dataset_load_image    (PalDataset *ds, int i, PalLandmarks *lm_out,
                                        GError **error);

/* The indices of the samples of @split (or PAL_SPLIT_ALL), ascending;
 * g_free() them.  *@n receives their number. */
int         *pal_dataset_indices       (PalDataset *ds, PalSplit split, int *n);
/* Samples of @split (or PAL_SPLIT_ALL) and class @label (-1: any). */
int          pal_dataset_count         (PalDataset *ds, PalSplit split, int label);

/* TRUE when the dataset brings its own validation split (FER2013's
 * PublicTest, a folder's val/). */
gboolean     pal_dataset_has_own_validation (PalDataset *ds);

/* The paper's validation size: 10% of train. */
#define PAL_DATASET_DEFAULT_VAL_FRACTION 0.1

/* The paper's protocol: moves round(@fraction * train) samples from train to
 * val, as many of each class as needed for the test set's class
 * proportions (over the classes train has; the train set's own when there
 * is no test set; fewer in all if a class has too few training samples to
 * keep the proportions), chosen by a shuffle seeded with @seed.  A previous draw is put back first;
 * @fraction 0 only puts it back.  Fails (PAL_ERROR_INVALID) for a
 * dataset with its own validation split, or @fraction outside [0, 1). */
gboolean     pal_dataset_make_validation (PalDataset *ds, double fraction, guint64 seed,
                                          GError **error);

/* Rows read from the label files (or image files found), kept + skipped. */
int          pal_dataset_get_n_rows    (PalDataset *ds);
int          pal_dataset_get_n_skipped (PalDataset *ds, PalSkipReason reason);
/* All broken rows (PAL_SKIP_FIELD_COUNT .. PAL_SKIP_LAST_BROKEN). */
int          pal_dataset_get_n_broken  (PalDataset *ds);
/* Kept samples without landmarks. */
int          pal_dataset_get_n_missing_landmarks (PalDataset *ds);
/* The first max_issues broken rows, in the order met. */
const PalDatasetIssue *pal_dataset_get_issues (PalDataset *ds, int *n);
/* "wrong field count", "bad number", ... */
const char  *pal_skip_reason_name      (PalSkipReason reason);

/* A multi-line summary: format and root, classes, a table of counts per
 * split and class, landmarks, skipped rows by reason.  g_free() it. */
char        *pal_dataset_describe      (PalDataset *ds);

/* Class-balanced sampling: each draw picks a class uniformly among those
 * present in the split, then a sample of that class uniformly.  The
 * sampler copies what it needs: it does not follow later changes of the
 * splits and does not keep @ds. */
/* The dataset as a sample source for the loader (pal-loader.h): images,
 * landmarks (moved with an AffectNet crop) and labels; thread-safe. */
PalLoaderSource pal_dataset_as_source (PalDataset *ds);

typedef struct _PalBalancedSampler PalBalancedSampler;

/* NULL with @split empty. */
PalBalancedSampler *pal_balanced_sampler_new  (PalDataset *ds, PalSplit split, guint64 seed);
/* A dataset index. */
int          pal_balanced_sampler_next (PalBalancedSampler *s);
void         pal_balanced_sampler_free (PalBalancedSampler *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalDataset, pal_dataset_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalBalancedSampler, pal_balanced_sampler_free)

G_END_DECLS
