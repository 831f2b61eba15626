/* pal-analysis.h: the Emotional DAN analysis of Grad-CAM maps per emotion
 *
 * Tautkute et al., "Classifying and visualizing emotions with emotional
 * DAN" (Section 5.2), average the Grad-CAM localisation maps of the
 * near-frontal test images of each emotion, take the k landmarks where
 * that mean map is most activated, k being the number of landmarks that
 * Table 4 relates to the emotion's action units (EMFACS), and report the
 * overlap of the two sets (Table 5).  This unit does the same for a PAL
 * Studio model and dataset:
 *
 *   1. the split's samples with landmarks are read; with a frontal epsilon,
 *      only the faces whose four eye corners (landmarks 36, 39, 42, 45) lie
 *      within epsilon input pixels of their mean positions over the split
 *      are kept (the paper's Eq. 5 uses the two outer corners, 36 and 45;
 *      the inner two make the test a little stricter);
 *   2. each image is brought to the network's input (resized, the model's
 *      normalisation) and its Grad-CAM is taken at the chosen layer for its
 *      own, true class: the paper groups the images by label (Eq. 6) and
 *      averages each group's maps into the map of that class (Eq. 7);
 *   3. the map (ReLU(sum_k alpha_k F_k), not normalised, as the paper
 *      averages it) is resized bilinearly to the input size (pixel centres
 *      aligned) and added, as it is, to its class's sum: the datasets are
 *      aligned face crops, so the maps are averaged in the input frame,
 *      without warping each face onto the mean face.  The image as the
 *      network saw it (resized, 0..255) and its landmarks in input pixels
 *      are summed alike, giving each class a mean image and a mean face;
 *   4. each class's mean map is sampled at the 68 landmarks of that class's
 *      mean face (bilinear, at the point: the map is already smooth at
 *      input resolution), the landmarks are ranked by that activation (ties
 *      by index), and the first k are compared with the class's Table 4
 *      set: overlap = |top-k and set| / k.  A landmark where the mean map
 *      is 0 is not activated: when fewer than k landmarks are above 0, the
 *      top list is that much shorter and the missing places count as
 *      misses (ties at 0 would otherwise be filled in index order).  A map
 *      with the same value at all 68 landmarks ranks nothing: its overlap
 *      is undefined.  The mean face of the class is used rather than that
 *      of the whole split because the class's mean map is the average over
 *      exactly those images: a feature that follows landmark j sits, on
 *      average, at the class's mean position of j.  A random ranking
 *      reaches k / 68 on average (pal_gradcam_means_chance()).
 *
 * Neutral (and contempt) have no action units in Table 4: their maps are
 * averaged and drawn, with k = 0 and no overlap.
 *
 * Table 4's k do not reproduce the denominators of the paper's Table 5
 * (the smallest k that gives both of its rows is 16 for happy, 22 for sad,
 * 23 for surprise, 30 for fear, 14 for disgust, 34 for anger, against
 * 12, 18, 29, 33, 20, 36 here): the sets here are Table 4 as printed, and
 * k is the size of each set.
 *
 * Everything is in the input frame of pal-landmarks.h (0-based; landmark
 * (x, y) on the centre of pixel (x, y)), at the network's input size.
 */
#pragma once

#include <gio/gio.h>

#include "pal-dataset.h"
#include "pal-image.h"
#include "pal-landmarks.h"
#include "pal-model.h"

G_BEGIN_DECLS

/* --- Table 4 --------------------------------------------------------------- */

/* One row of Table 4: an action unit and the landmarks it relates to. */
typedef struct {
  const char *au;            /* the AU number(s) as printed: "6", "5+7" */
  const char *name;          /* FACS name: "Cheek Raiser" */
  int         n_landmarks;
  const int  *landmarks;     /* 0-based iBUG indices, as printed (Table 4 is
                              * 0-based: 36..45 are the eyes, 48 and 54 the
                              * mouth corners) */
} PalActionUnit;

/* The rows of one emotion (EMFACS). */
typedef struct {
  int                  klass;     /* canonical class (pal-dataset.h) */
  const char          *emotion;   /* Table 4's name: "Happiness" */
  int                  n_aus;
  const PalActionUnit *aus;
} PalEmotionAUs;

/* Table 4's rows for canonical class @klass, or NULL (neutral, contempt,
 * out of range).  The sets, as unions of their rows:
 *
 *   happy     AU6 cheek raiser, AU12 lip corner puller             12
 *   sad       AU1 inner brow raiser, AU4 brow lowerer,
 *             AU15 lip corner depressor                            18
 *   surprise  AU1, AU2 outer brow raiser, AU5 upper lid raiser,
 *             AU26 jaw drop                                        29
 *   fear      AU1, AU2, AU4, AU5+7 (lid tightener), AU20 lip
 *             stretcher, AU26                                      33
 *   disgust   AU9 nose wrinkler, AU15, AU16 lower lip depressor    20
 *   anger     AU4, AU5+7, AU23 lip tightener                       36
 */
const PalEmotionAUs *pal_emotion_aus       (int klass);

/* The Table 4 set of @klass (the union of its rows' landmarks) in
 * ascending order into @out; returns its size k (0 without a set). */
int          pal_emotion_landmarks         (int klass, int out[PAL_N_LANDMARKS]);

/* --- the pieces -------------------------------------------------------------- */

/* The eye corners that decide whether a face is frontal. */
#define PAL_N_EYE_CORNERS 4
extern const int pal_eye_corners[PAL_N_EYE_CORNERS];   /* 36, 39, 42, 45 */

/* TRUE when each eye corner of @lm lies less than @eps pixels (Euclidean)
 * from the same corner of @ref (the mean face). */
gboolean     pal_face_is_frontal           (const PalLandmarks *lm, const PalLandmarks *ref,
                                            double eps);

/* The map [h, w] at the point (x, y) of its pixel frame, bilinear between
 * pixel centres, clamped to the border pixels outside. */
float        pal_map_sample                (const float *map, int w, int h, float x, float y);

/* Ranks the 68 landmarks of @lm by the map's value there (pal_map_sample()),
 * highest first, ties by landmark index: @order receives the landmark
 * indices, @activation (may be NULL) each landmark's value, by landmark
 * index. */
void         pal_landmarks_rank            (const float *map, int w, int h,
                                            const PalLandmarks *lm,
                                            int order[PAL_N_LANDMARKS],
                                            float activation[PAL_N_LANDMARKS]);

/* How many of the @k landmarks in @top are in @set (@n_set indices). */
int          pal_landmarks_overlap         (const int *top, int k, const int *set, int n_set);

/* --- the result ------------------------------------------------------------- */

#define PAL_ANALYSIS_MAX_CLASSES 8

typedef struct {
  int          n_classes;     /* the dataset's (7, or 8 with contempt) */
  int          width, height; /* input size: the frame of maps, images and faces */
  int          map_width, map_height;  /* Grad-CAM size at the layer (0 when not
                                        * made by pal_gradcam_means_run()) */
  char        *layer;         /* node name, or NULL */
  double       frontal_eps;   /* 0: no frontal selection */

  /* Samples of the split, and why some were not used. */
  int          n_split;
  int          n_no_landmarks;   /* no landmarks: left out */
  int          n_not_frontal;    /* eye corners too far from the mean */
  int          n_failed;         /* image could not be read */
  PalLandmarks frontal_ref;      /* mean face of the split's faces with landmarks
                                  * (the reference of the frontal test) */

  /* Per class (canonical order). */
  int          counts[PAL_ANALYSIS_MAX_CLASSES];   /* images averaged */
  int          correct[PAL_ANALYSIS_MAX_CLASSES];  /* of which the model got right */
  float       *maps;          /* [n_classes, height, width] mean Grad-CAM (zeros
                               * for a class without images) */
  float       *images;        /* [n_classes, height, width, 3] mean image, 0..255
                               * (mid-grey for a class without images) */
  PalLandmarks faces[PAL_ANALYSIS_MAX_CLASSES];    /* mean face of each class (the
                                                    * overall one when empty) */
  PalLandmarks mean_face;     /* over every image used */
  float        activation[PAL_ANALYSIS_MAX_CLASSES][PAL_N_LANDMARKS];
                              /* mean map at each landmark of the class's face */
  int          ranking[PAL_ANALYSIS_MAX_CLASSES][PAL_N_LANDMARKS];
                              /* landmarks by activation, highest first */
  int          k[PAL_ANALYSIS_MAX_CLASSES];        /* Table 4 set size, 0: none */
  int          n_top[PAL_ANALYSIS_MAX_CLASSES];    /* the top list: the first n_top
                                                    * of the ranking; k, or fewer when
                                                    * fewer landmarks are above 0 */
  int          overlap[PAL_ANALYSIS_MAX_CLASSES];  /* |top list and set| (0 when the
                                                    * class has no images or a
                                                    * flat map) */
  gboolean     flat[PAL_ANALYSIS_MAX_CLASSES];     /* the mean map has the same value
                                                    * at every landmark (e.g. zero
                                                    * everywhere): no ranking */
} PalGradcamMeans;

void         pal_gradcam_means_free        (PalGradcamMeans *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalGradcamMeans, pal_gradcam_means_free)

/* overlap / k, or NAN when the class has no set, no images or a flat map. */
double       pal_gradcam_means_fraction    (const PalGradcamMeans *m, int klass);
/* The mean of the defined fractions (Table 5's "Avg"), NAN if none. */
double       pal_gradcam_means_average     (const PalGradcamMeans *m);
/* The fraction a ranking drawn at random would reach on average, k / 68
 * (the yardstick for overlap / k: 0.18 for happy, 0.53 for anger), NAN
 * when the class has no set.  With @klass -1: the mean over the classes
 * that pal_gradcam_means_average() averages. */
double       pal_gradcam_means_chance      (const PalGradcamMeans *m, int klass);

/* --- accumulating ------------------------------------------------------------ */

/* Sums of maps, images and landmarks per class, for pal_gradcam_means_run()
 * and for callers with maps of their own. */
typedef struct _PalGradcamAccum PalGradcamAccum;

/* @n_classes 1 .. PAL_ANALYSIS_MAX_CLASSES; maps, images and faces at
 * @width x @height. */
PalGradcamAccum *pal_gradcam_accum_new     (int n_classes, int width, int height);
void         pal_gradcam_accum_free        (PalGradcamAccum *acc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PalGradcamAccum, pal_gradcam_accum_free)

/* Adds one image of class @klass: its map @cam [cam_h, cam_w] (resized
 * bilinearly to the accumulator's size), its landmarks @lm in input pixels,
 * and optionally (@image not NULL) the image [height, width, 3], 0..255.
 * @correct: the model predicted @klass. */
void         pal_gradcam_accum_add         (PalGradcamAccum *acc, int klass,
                                            const float *cam, int cam_w, int cam_h,
                                            const PalLandmarks *lm, const float *image,
                                            gboolean correct);

/* The means, rankings and overlaps so far (the accumulator can go on). */
PalGradcamMeans *pal_gradcam_accum_finish  (PalGradcamAccum *acc);

/* --- the whole analysis ----------------------------------------------------- */

typedef struct {
  int     batch_size;     /* images per Grad-CAM call (default 32) */
  double  frontal_eps;    /* > 0: only near-frontal faces (see above), in
                           * input pixels; 0 (default): every face */
  int     n_workers;      /* threads decoding images (default 2) */
} PalGradcamMeansOptions;

void         pal_gradcam_means_options_init (PalGradcamMeansOptions *opt);

typedef enum {
  PAL_ANALYSIS_STAGE_LANDMARKS,   /* reading the faces for the frontal test */
  PAL_ANALYSIS_STAGE_GRADCAM,     /* Grad-CAM of the selected images */
} PalAnalysisStage;

/* Called in the caller's thread after each batch: @done of @total images
 * of @stage (done grows to total; the landmark stage only runs with a
 * frontal epsilon). */
typedef void (*PalAnalysisProgressFunc) (PalAnalysisStage stage, int done, int total,
                                         gpointer user_data);

/* The analysis of @split (or PAL_SPLIT_ALL) of @ds with @model's Grad-CAM
 * at node @layer.  Images go in batches through a workspace with fixed
 * weights (inference form), decoded ahead by a PalLoader.  @opt may be
 * NULL.  Fails (PAL_ERROR_INVALID) when the layer has no spatial map, a
 * label has no class in the model, or no image is left (no landmarks, none
 * frontal); (PAL_ERROR_IO) when no image of a non-empty selection could be
 * read; (PAL_ERROR_CANCELLED) when @cancellable is cancelled, which is
 * checked before each batch. */
PalGradcamMeans *pal_gradcam_means_run     (PalModel *model, int layer, PalDataset *ds,
                                            PalSplit split,
                                            const PalGradcamMeansOptions *opt,
                                            GCancellable *cancellable,
                                            PalAnalysisProgressFunc progress,
                                            gpointer user_data, GError **error);

/* --- reporting ------------------------------------------------------------- */

/* A text table, one line per class: images (and accuracy), k, overlap
 * count / k and percentage, chance (k / 68), the top-k landmarks; then the
 * averages, as Table 5.  @names: the class names (NULL: the canonical ones).  g_free() it. */
char        *pal_gradcam_means_to_string   (const PalGradcamMeans *m,
                                            const char *const *names);

/* CSV with a header: class, images, correct, k, overlap, fraction, chance,
 * top_k (landmarks separated by spaces), table4 (the set).  g_free() it. */
char        *pal_gradcam_means_to_csv      (const PalGradcamMeans *m,
                                            const char *const *names);

/* The picture: one panel per class, the class's mean image under its mean
 * map (each map coloured over its own range), the mean face's landmarks as
 * small dots and the top-k landmarks as larger ones (in the Table 4 set or
 * not: two colours), then the overlap table.  @title may be NULL. */
PalImage    *pal_gradcam_means_render      (const PalGradcamMeans *m,
                                            const char *const *names, const char *title);

G_END_DECLS
