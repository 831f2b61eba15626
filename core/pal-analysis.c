/* pal-analysis.c: the Emotional DAN analysis of Grad-CAM maps per emotion
 * (see pal-analysis.h)
 *
 * pal_gradcam_means_run() reads the images through a PalLoader with no
 * augmentation, so that worker threads decode and resize the next images
 * while the model runs.  The loader's source hands the images out without
 * landmarks (the loader then renders no prior) and stores each face's
 * landmarks, brought to the input size the way the loader resizes the
 * image, in a table of its own.  The selected samples are ordered by class,
 * so a batch holds one or two runs of the same label, and each run is one
 * pal_workspace_gradcam() call for that class.
 */
#include "pal-analysis.h"

#include "pal-error.h"
#include "pal-exec.h"
#include "pal-loader.h"
#include "pal-render.h"

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <string.h>

/* Loader threads' batches prepared ahead. */
#define LOADER_PREFETCH 2

/* --- Table 4 ---------------------------------------------------------------- */

/* Table 4 of the paper, row by row, indices as printed.  The PDF's text
 * puts each emotion's name on one of its rows; the rows are assigned to
 * emotions by EMFACS (happiness 6+12, sadness 1+4+15, surprise 1+2+5+26,
 * fear 1+2+4+5+7+20+26, disgust 9+15+16, anger 4+5+7+23), which is also the
 * order of the rows. */
static const int lm_cheeks[] = { 1, 2, 14, 15 };
static const int lm_lip_corners[] = { 48, 49, 53, 54, 55, 59, 60, 64 };
static const int lm_sad_inner_brow[] = { 17, 18, 19, 20, 21 };
static const int lm_sad_brow_lowerer[] = { 22, 23, 24, 25, 26 };
static const int lm_inner_brow[] = { 20, 21, 22, 23 };
static const int lm_outer_brow[] = { 17, 18, 19, 24, 25, 26 };
static const int lm_brows[] = { 17, 18, 19, 20, 21, 22, 23, 24, 25, 26 };
static const int lm_upper_lids[] = { 37, 38, 39, 42, 43, 44 };
static const int lm_jaw_drop[] = { 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67 };
static const int lm_nose[] = { 27, 28, 29, 30, 31, 32, 33, 34, 35 };
static const int lm_lower_lip[] = { 48, 54, 55, 56, 57, 58, 59, 60, 64 };
static const int lm_lips[] = { 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
                               63, 64, 65, 66, 67 };

#define AU(number, name, set) { number, name, G_N_ELEMENTS (set), set }

static const PalActionUnit aus_happy[] = {
  AU ("6", "Cheek Raiser", lm_cheeks),
  AU ("12", "Lip Corner Puller", lm_lip_corners),
};
static const PalActionUnit aus_sad[] = {
  AU ("1", "Inner Brow Raiser", lm_sad_inner_brow),
  AU ("4", "Brow Lowerer", lm_sad_brow_lowerer),
  AU ("15", "Lip Corner Depressor", lm_lip_corners),
};
static const PalActionUnit aus_surprise[] = {
  AU ("1", "Inner Brow Raiser", lm_inner_brow),
  AU ("2", "Outer Brow Raiser", lm_outer_brow),
  AU ("5", "Upper Lid Raiser", lm_upper_lids),
  AU ("26", "Jaw Drop", lm_jaw_drop),
};
static const PalActionUnit aus_fear[] = {
  AU ("1", "Inner Brow Raiser", lm_inner_brow),
  AU ("2", "Outer Brow Raiser", lm_outer_brow),
  AU ("4", "Brow Lowerer", lm_brows),
  AU ("5+7", "Upper Lid Raiser, Lid Tightener", lm_upper_lids),
  AU ("20", "Lip Stretcher", lm_lip_corners),
  AU ("26", "Jaw Drop", lm_jaw_drop),
};
static const PalActionUnit aus_disgust[] = {
  AU ("9", "Nose Wrinkler", lm_nose),
  AU ("15", "Lip Corner Depressor", lm_lip_corners),
  AU ("16", "Lower Lip Depressor", lm_lower_lip),
};
static const PalActionUnit aus_anger[] = {
  AU ("4", "Brow Lowerer", lm_brows),
  AU ("5+7", "Upper Lid Raiser, Lid Tightener", lm_upper_lids),
  AU ("23", "Lip Tightener", lm_lips),
};

#undef AU

/* By canonical class; neutral (0) has none. */
static const PalEmotionAUs table4[] = {
  { 1, "Happiness", G_N_ELEMENTS (aus_happy), aus_happy },
  { 2, "Sadness", G_N_ELEMENTS (aus_sad), aus_sad },
  { 3, "Surprise", G_N_ELEMENTS (aus_surprise), aus_surprise },
  { 4, "Fear", G_N_ELEMENTS (aus_fear), aus_fear },
  { 5, "Disgust", G_N_ELEMENTS (aus_disgust), aus_disgust },
  { 6, "Anger", G_N_ELEMENTS (aus_anger), aus_anger },
};

const PalEmotionAUs *
pal_emotion_aus (int klass)
{
  for (guint i = 0; i < G_N_ELEMENTS (table4); i++)
    if (table4[i].klass == klass)
      return &table4[i];
  return NULL;
}

int
pal_emotion_landmarks (int klass, int out[PAL_N_LANDMARKS])
{
  const PalEmotionAUs *e = pal_emotion_aus (klass);
  gboolean in[PAL_N_LANDMARKS] = { FALSE };
  int k = 0;

  if (!e)
    return 0;
  for (int a = 0; a < e->n_aus; a++)
    for (int i = 0; i < e->aus[a].n_landmarks; i++)
      in[e->aus[a].landmarks[i]] = TRUE;
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    if (in[j])
      out[k++] = j;
  return k;
}

/* --- the pieces -------------------------------------------------------------- */

const int pal_eye_corners[PAL_N_EYE_CORNERS] = { 36, 39, 42, 45 };

gboolean
pal_face_is_frontal (const PalLandmarks *lm, const PalLandmarks *ref, double eps)
{
  for (int i = 0; i < PAL_N_EYE_CORNERS; i++)
    {
      int j = pal_eye_corners[i];

      if (!(hypot (lm->x[j] - ref->x[j], lm->y[j] - ref->y[j]) < eps))
        return FALSE;
    }
  return TRUE;
}

float
pal_map_sample (const float *map, int w, int h, float x, float y)
{
  float fx, fy, ax, ay, top, bottom;
  int x0, y0, x1, y1;

  if (!isfinite (x) || !isfinite (y))
    return 0.0f;
  fx = CLAMP (x, 0.0f, (float) (w - 1));
  fy = CLAMP (y, 0.0f, (float) (h - 1));
  x0 = MIN ((int) fx, w - 1);
  y0 = MIN ((int) fy, h - 1);
  x1 = MIN (x0 + 1, w - 1);
  y1 = MIN (y0 + 1, h - 1);
  ax = fx - x0;
  ay = fy - y0;
  top = (1.0f - ax) * map[y0 * w + x0] + ax * map[y0 * w + x1];
  bottom = (1.0f - ax) * map[y1 * w + x0] + ax * map[y1 * w + x1];
  return (1.0f - ay) * top + ay * bottom;
}

void
pal_landmarks_rank (const float *map, int w, int h, const PalLandmarks *lm,
                    int order[PAL_N_LANDMARKS], float activation[PAL_N_LANDMARKS])
{
  float act[PAL_N_LANDMARKS];

  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      act[j] = pal_map_sample (map, w, h, lm->x[j], lm->y[j]);
      if (activation)
        activation[j] = act[j];
    }
  /* Insertion sort: stable, so equal values stay in index order. */
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      int i = j;

      while (i > 0 && act[order[i - 1]] < act[j])
        {
          order[i] = order[i - 1];
          i--;
        }
      order[i] = j;
    }
}

int
pal_landmarks_overlap (const int *top, int k, const int *set, int n_set)
{
  gboolean in[PAL_N_LANDMARKS] = { FALSE };
  int n = 0;

  for (int i = 0; i < n_set; i++)
    if (set[i] >= 0 && set[i] < PAL_N_LANDMARKS)
      in[set[i]] = TRUE;
  for (int i = 0; i < k; i++)
    if (top[i] >= 0 && top[i] < PAL_N_LANDMARKS && in[top[i]])
      {
        n++;
        in[top[i]] = FALSE;   /* a landmark listed twice counts once */
      }
  return n;
}

/* --- the result ------------------------------------------------------------- */

void
pal_gradcam_means_free (PalGradcamMeans *m)
{
  if (!m)
    return;
  g_free (m->layer);
  g_free (m->maps);
  g_free (m->images);
  g_free (m);
}

double
pal_gradcam_means_fraction (const PalGradcamMeans *m, int klass)
{
  if (klass < 0 || klass >= m->n_classes || m->k[klass] == 0 || m->counts[klass] == 0
      || m->flat[klass])
    return NAN;
  return (double) m->overlap[klass] / m->k[klass];
}

double
pal_gradcam_means_average (const PalGradcamMeans *m)
{
  double sum = 0.0;
  int n = 0;

  for (int k = 0; k < m->n_classes; k++)
    {
      double f = pal_gradcam_means_fraction (m, k);

      if (!isnan (f))
        {
          sum += f;
          n++;
        }
    }
  return n > 0 ? sum / n : NAN;
}

double
pal_gradcam_means_chance (const PalGradcamMeans *m, int klass)
{
  double sum = 0.0;
  int n = 0;

  if (klass >= 0)
    return klass < m->n_classes && m->k[klass] > 0 ? (double) m->k[klass] / PAL_N_LANDMARKS
                                                   : NAN;
  for (int k = 0; k < m->n_classes; k++)
    if (!isnan (pal_gradcam_means_fraction (m, k)))
      {
        sum += (double) m->k[k] / PAL_N_LANDMARKS;
        n++;
      }
  return n > 0 ? sum / n : NAN;
}

/* --- accumulating ------------------------------------------------------------ */

struct _PalGradcamAccum {
  int     n_classes, width, height;
  double *maps;        /* [n_classes, height, width] */
  double *images;      /* [n_classes, height, width, 3] */
  double  lm[PAL_ANALYSIS_MAX_CLASSES][2][PAL_N_LANDMARKS];
  int     counts[PAL_ANALYSIS_MAX_CLASSES];
  int     n_images[PAL_ANALYSIS_MAX_CLASSES];
  int     correct[PAL_ANALYSIS_MAX_CLASSES];
  float  *resized;     /* [height, width] scratch */
};

PalGradcamAccum *
pal_gradcam_accum_new (int n_classes, int width, int height)
{
  PalGradcamAccum *acc;
  gsize plane = (gsize) width * height;

  g_return_val_if_fail (n_classes >= 1 && n_classes <= PAL_ANALYSIS_MAX_CLASSES, NULL);
  g_return_val_if_fail (width >= 1 && height >= 1 && width <= 8192 && height <= 8192, NULL);
  acc = g_new0 (PalGradcamAccum, 1);
  acc->n_classes = n_classes;
  acc->width = width;
  acc->height = height;
  acc->maps = g_new0 (double, n_classes * plane);
  acc->images = g_new0 (double, n_classes * plane * 3);
  acc->resized = g_new (float, plane);
  return acc;
}

void
pal_gradcam_accum_free (PalGradcamAccum *acc)
{
  if (!acc)
    return;
  g_free (acc->maps);
  g_free (acc->images);
  g_free (acc->resized);
  g_free (acc);
}

/* Bilinear resize of [sh, sw] to [dh, dw], pixel centres aligned (output
 * centre u + 0.5 maps to (u + 0.5) sw / dw in the source), clamped at the
 * border: the usual upsampling of a Grad-CAM map to the image. */
static void
map_resize_bilinear (float *dst, int dw, int dh, const float *src, int sw, int sh)
{
  for (int v = 0; v < dh; v++)
    {
      float y = (v + 0.5f) * sh / dh - 0.5f;

      for (int u = 0; u < dw; u++)
        dst[v * dw + u] = pal_map_sample (src, sw, sh, (u + 0.5f) * sw / dw - 0.5f, y);
    }
}

void
pal_gradcam_accum_add (PalGradcamAccum *acc, int klass, const float *cam, int cam_w,
                       int cam_h, const PalLandmarks *lm, const float *image,
                       gboolean correct)
{
  gsize plane = (gsize) acc->width * acc->height;
  double *sum;

  g_return_if_fail (klass >= 0 && klass < acc->n_classes);
  g_return_if_fail (cam && cam_w >= 1 && cam_h >= 1 && lm);

  map_resize_bilinear (acc->resized, acc->width, acc->height, cam, cam_w, cam_h);
  sum = acc->maps + klass * plane;
  for (gsize i = 0; i < plane; i++)
    sum[i] += acc->resized[i];
  if (image)
    {
      sum = acc->images + klass * plane * 3;
      for (gsize i = 0; i < plane * 3; i++)
        sum[i] += image[i];
      acc->n_images[klass]++;
    }
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      acc->lm[klass][0][j] += lm->x[j];
      acc->lm[klass][1][j] += lm->y[j];
    }
  acc->counts[klass]++;
  acc->correct[klass] += correct != FALSE;
}

PalGradcamMeans *
pal_gradcam_accum_finish (PalGradcamAccum *acc)
{
  PalGradcamMeans *m = g_new0 (PalGradcamMeans, 1);
  gsize plane = (gsize) acc->width * acc->height;
  double all[2][PAL_N_LANDMARKS] = { { 0 } };
  int total = 0;

  m->n_classes = acc->n_classes;
  m->width = acc->width;
  m->height = acc->height;
  m->maps = g_new0 (float, acc->n_classes * plane);
  m->images = g_new (float, acc->n_classes * plane * 3);

  for (int k = 0; k < acc->n_classes; k++)
    {
      total += acc->counts[k];
      for (int j = 0; j < PAL_N_LANDMARKS; j++)
        {
          all[0][j] += acc->lm[k][0][j];
          all[1][j] += acc->lm[k][1][j];
        }
    }
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      m->mean_face.x[j] = total > 0 ? (float) (all[0][j] / total) : 0.0f;
      m->mean_face.y[j] = total > 0 ? (float) (all[1][j] / total) : 0.0f;
    }
  m->frontal_ref = m->mean_face;

  for (int k = 0; k < acc->n_classes; k++)
    {
      int n = acc->counts[k], n_img = acc->n_images[k];
      int set[PAL_N_LANDMARKS];

      m->counts[k] = n;
      m->correct[k] = acc->correct[k];
      for (gsize i = 0; i < plane && n > 0; i++)
        m->maps[k * plane + i] = (float) (acc->maps[k * plane + i] / n);
      for (gsize i = 0; i < plane * 3; i++)
        m->images[k * plane * 3 + i] =
          n_img > 0 ? (float) (acc->images[k * plane * 3 + i] / n_img) : 128.0f;
      if (n > 0)
        for (int j = 0; j < PAL_N_LANDMARKS; j++)
          {
            m->faces[k].x[j] = (float) (acc->lm[k][0][j] / n);
            m->faces[k].y[j] = (float) (acc->lm[k][1][j] / n);
          }
      else
        m->faces[k] = m->mean_face;

      m->k[k] = pal_emotion_landmarks (k, set);
      if (n > 0)
        {
          pal_landmarks_rank (m->maps + k * plane, acc->width, acc->height, &m->faces[k],
                              m->ranking[k], m->activation[k]);
          const float *act = m->activation[k];
          int above = 0;

          for (int j = 0; j < PAL_N_LANDMARKS; j++)
            above += act[j] > 0.0f;
          /* ranked highest first: the first and the last are the extremes */
          m->flat[k] = act[m->ranking[k][0]] == act[m->ranking[k][PAL_N_LANDMARKS - 1]];
          m->n_top[k] = m->flat[k] ? 0 : MIN (m->k[k], above);
          m->overlap[k] = pal_landmarks_overlap (m->ranking[k], m->n_top[k], set, m->k[k]);
        }
      else
        for (int j = 0; j < PAL_N_LANDMARKS; j++)
          m->ranking[k][j] = j;
    }
  return m;
}

/* --- the whole analysis ----------------------------------------------------- */

void
pal_gradcam_means_options_init (PalGradcamMeansOptions *opt)
{
  memset (opt, 0, sizeof *opt);
  opt->batch_size = 32;
  opt->frontal_eps = 0.0;
  opt->n_workers = 2;
}

/* The loader's source: the dataset's images, without landmarks for the
 * loader; each face's landmarks in input pixels go to lm[slot[index]]
 * (each index is loaded by one worker at a time, and read by the caller
 * only once its batch has been handed over). */
typedef struct {
  PalDataset   *ds;
  int           width, height;   /* input size */
  const int    *slot;            /* [dataset size] slot of each index, -1: none */
  PalLandmarks *lm;              /* [slots] */
} Source;

static gboolean
source_get (void *src, int index, PalImage **image, PalLandmarks *lm_unused,
            gboolean *has_lm, int *label, GError **error)
{
  Source *s = src;
  PalLandmarks lm;
  PalImage *img;
  int slot = s->slot[index];

  (void) lm_unused;
  img = pal_dataset_load_image (s->ds, index, &lm, error);
  if (!img)
    return FALSE;
  if (slot >= 0)
    {
      /* As pal_augment_apply() resizes: pixel x covers [x, x + 1). */
      float sx = (float) s->width / img->width, sy = (float) s->height / img->height;

      for (int j = 0; j < PAL_N_LANDMARKS; j++)
        {
          s->lm[slot].x[j] = (lm.x[j] + 0.5f) * sx - 0.5f;
          s->lm[slot].y[j] = (lm.y[j] + 0.5f) * sy - 0.5f;
        }
    }
  *image = img;
  *has_lm = FALSE;
  *label = pal_dataset_get (s->ds, index)->label;
  return TRUE;
}

/* Turns a loader's cancellation into ours. */
static gboolean
cancelled_error (GCancellable *cancellable, GError **error)
{
  if (!g_cancellable_is_cancelled (cancellable))
    return FALSE;
  g_set_error (error, PAL_ERROR, PAL_ERROR_CANCELLED, "cancelled");
  return TRUE;
}

static gboolean
loader_next (PalLoader *loader, PalBatch **b, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (cancelled_error (cancellable, error))
    return FALSE;
  if (pal_loader_next (loader, b, cancellable, &local))
    return TRUE;
  if (!cancelled_error (cancellable, error))
    g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

static PalLoader *
make_loader (PalModel *model, Source *src, const int *indices, int n,
             const PalGradcamMeansOptions *opt, GError **error)
{
  PalLoaderSource source = { pal_dataset_get_n (src->ds), src, source_get };
  PalLoaderOptions lo;

  pal_loader_options_init (&lo);
  pal_loader_options_set_model (&lo, model);
  lo.indices = indices;
  lo.n_indices = n;
  lo.shuffle = FALSE;
  lo.n_epochs = 1;
  lo.batch_size = opt->batch_size;
  lo.map_width = lo.map_height = 1;   /* no priors are made; keep the buffers small */
  lo.augment = NULL;
  lo.n_workers = opt->n_workers;
  lo.n_prefetch = LOADER_PREFETCH;
  return pal_loader_new (&source, &lo, error);
}

/* The mean of the landmarks of @n slots. */
static void
mean_landmarks (const PalLandmarks *lm, const int *slots, int n, PalLandmarks *out)
{
  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      double sx = 0.0, sy = 0.0;

      for (int i = 0; i < n; i++)
        {
          sx += lm[slots[i]].x[j];
          sy += lm[slots[i]].y[j];
        }
      out->x[j] = n > 0 ? (float) (sx / n) : 0.0f;
      out->y[j] = n > 0 ? (float) (sy / n) : 0.0f;
    }
}

/* The input tensor of one sample back to pixels [h, w, 3], 0..255. */
static void
tensor_to_pixels (const float *x, int c, int h, int w, const float mean[3],
                  const float std[3], float *rgb)
{
  gsize plane = (gsize) h * w;

  for (gsize i = 0; i < plane; i++)
    for (int ch = 0; ch < 3; ch++)
      {
        int src = c == 3 ? ch : 0;

        rgb[i * 3 + ch] = (x[src * plane + i] * std[src] + mean[src]) * 255.0f;
      }
}

/* What happened to the split's samples before averaging. */
typedef struct {
  int          n_no_landmarks, n_not_frontal, n_failed;
  PalLandmarks frontal_ref;
} Tally;

/* The frontal pre-pass: loads every face of @cand, takes their mean (the
 * reference of the test) and keeps in @cand, in order, the frontal ones
 * that loaded.  Returns their number, -1 with @error. */
static int
select_frontal (PalModel *model, Source *src, int *cand, int n,
                const PalGradcamMeansOptions *opt, Tally *t,
                GCancellable *cancellable, PalAnalysisProgressFunc progress,
                gpointer user_data, GError **error)
{
  g_autofree gboolean *loaded = g_new0 (gboolean, pal_dataset_get_n (src->ds));
  g_autofree int *seen = g_new (int, n);
  PalLoader *loader = make_loader (model, src, cand, n, opt, error);
  int n_seen = 0, done = 0, kept = 0;

  if (!loader)
    return -1;
  for (;;)
    {
      PalBatch *b;

      if (!loader_next (loader, &b, cancellable, error))
        {
          pal_loader_free (loader);
          return -1;
        }
      if (!b)
        break;
      for (int i = 0; i < b->n; i++)
        {
          loaded[b->indices[i]] = TRUE;
          seen[n_seen++] = src->slot[b->indices[i]];
        }
      done += b->n + b->n_skipped;
      pal_batch_release (b);
      if (progress)
        progress (PAL_ANALYSIS_STAGE_LANDMARKS, MIN (done, n), n, user_data);
    }
  t->n_failed += (int) pal_loader_get_n_failed (loader);
  pal_loader_free (loader);

  mean_landmarks (src->lm, seen, n_seen, &t->frontal_ref);
  for (int i = 0; i < n; i++)
    {
      if (!loaded[cand[i]])
        continue;
      if (pal_face_is_frontal (&src->lm[src->slot[cand[i]]], &t->frontal_ref,
                               opt->frontal_eps))
        cand[kept++] = cand[i];
      else
        t->n_not_frontal++;
    }
  return kept;
}

/* Grad-CAM of the samples @cand (ordered by class) into @acc, batch by
 * batch, one call per run of a class in a batch. */
static gboolean
accumulate (PalModel *model, int layer, Source *src, const int *cand, int n,
            const PalGradcamMeansOptions *opt, PalGradcamAccum *acc, Tally *t,
            GCancellable *cancellable, PalAnalysisProgressFunc progress,
            gpointer user_data, GError **error)
{
  PalGraph *g = pal_model_get_graph (model);
  int K = pal_model_get_n_classes (model), fc, fh, fw, done = 0;
  g_autofree float *cam = NULL, *probs = NULL, *pixels = NULL;
  PalWorkspace *ws = NULL;
  PalLoader *loader = NULL;
  float mean[3], std[3];
  gboolean ok = FALSE;

  pal_graph_node_shape (g, layer, &fc, &fh, &fw);
  pal_model_get_normalisation (model, mean, std);
  ws = pal_workspace_new (model, opt->batch_size, error);
  if (!ws || !pal_workspace_set_weights_fixed (ws, TRUE, error))
    goto out;
  loader = make_loader (model, src, cand, n, opt, error);
  if (!loader)
    goto out;
  cam = g_new (float, (gsize) opt->batch_size * fh * fw);
  probs = g_new (float, (gsize) opt->batch_size * K);
  pixels = g_new (float, (gsize) src->width * src->height * 3);
  for (;;)
    {
      PalBatch *b;
      gsize chw;

      if (!loader_next (loader, &b, cancellable, error))
        goto out;
      if (!b)
        break;
      chw = (gsize) b->c * b->h * b->w;
      for (int i = 0, j; i < b->n; i = j)
        {
          for (j = i + 1; j < b->n && b->labels[j] == b->labels[i]; j++)
            ;
          if (!pal_workspace_gradcam (ws, b->x + i * chw, j - i, layer, b->labels[i],
                                      cam + (gsize) i * fh * fw, probs + (gsize) i * K,
                                      error))
            {
              pal_batch_release (b);
              goto out;
            }
        }
      for (int i = 0; i < b->n; i++)
        {
          const float *p = probs + (gsize) i * K;
          int best = 0;

          for (int k = 1; k < K; k++)
            if (p[k] > p[best])
              best = k;
          tensor_to_pixels (b->x + i * chw, b->c, b->h, b->w, mean, std, pixels);
          pal_gradcam_accum_add (acc, b->labels[i], cam + (gsize) i * fh * fw, fw, fh,
                                 &src->lm[src->slot[b->indices[i]]], pixels,
                                 best == b->labels[i]);
        }
      done += b->n + b->n_skipped;
      pal_batch_release (b);
      if (progress)
        progress (PAL_ANALYSIS_STAGE_GRADCAM, MIN (done, n), n, user_data);
    }
  ok = TRUE;

out:
  if (loader)
    {
      t->n_failed += (int) pal_loader_get_n_failed (loader);
      pal_loader_free (loader);
    }
  pal_workspace_free (ws);
  return ok;
}

PalGradcamMeans *
pal_gradcam_means_run (PalModel *model, int layer, PalDataset *ds, PalSplit split,
                       const PalGradcamMeansOptions *opt, GCancellable *cancellable,
                       PalAnalysisProgressFunc progress, gpointer user_data,
                       GError **error)
{
  PalGradcamMeansOptions defaults;
  PalGraph *g = pal_model_get_graph (model);
  int n_classes = pal_dataset_get_n_classes (ds), K = pal_model_get_n_classes (model);
  int n_ds = pal_dataset_get_n (ds), c, h, w, fc, fh, fw, n_split, n_cand = 0;
  g_autofree int *split_idx = NULL, *cand = NULL, *slot = NULL;
  g_autofree PalLandmarks *lms = NULL;
  g_autoptr (PalGradcamAccum) acc = NULL;
  PalGradcamMeans *m;
  Tally t = { 0 };
  Source src;

  if (!opt)
    {
      pal_gradcam_means_options_init (&defaults);
      opt = &defaults;
    }
  if (opt->batch_size < 1 || opt->batch_size > 4096)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "batch size must be 1 .. 4096 (got %d)", opt->batch_size);
      return NULL;
    }
  if (!(opt->frontal_eps >= 0.0) || !isfinite (opt->frontal_eps))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the frontal epsilon must be 0 (off) or a positive number of pixels");
      return NULL;
    }
  if (!pal_graph_check_attribution_node (g, layer, FALSE, error))
    return NULL;
  if (n_classes > PAL_ANALYSIS_MAX_CLASSES || n_classes > K)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the dataset has %d classes but the model only %d", n_classes, K);
      return NULL;
    }
  pal_graph_input_shape (g, &c, &h, &w);
  pal_graph_node_shape (g, layer, &fc, &fh, &fw);

  /* The candidates: the split's faces with landmarks, ordered by class;
   * slot[i] numbers them for the landmark table. */
  split_idx = pal_dataset_indices (ds, split, &n_split);
  cand = g_new (int, MAX (n_split, 1));
  slot = g_new (int, MAX (n_ds, 1));
  for (int i = 0; i < n_ds; i++)
    slot[i] = -1;
  for (int k = 0; k < n_classes; k++)
    for (int i = 0; i < n_split; i++)
      {
        const PalSample *s = pal_dataset_get (ds, split_idx[i]);

        if (s->label != k)
          continue;
        if (!s->has_landmarks)
          {
            t.n_no_landmarks++;
            continue;
          }
        slot[split_idx[i]] = n_cand;
        cand[n_cand++] = split_idx[i];
      }
  if (n_cand == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   n_split == 0 ? "the split has no samples"
                                : "no sample of the split has landmarks");
      return NULL;
    }
  lms = g_new0 (PalLandmarks, n_cand);
  src = (Source) { ds, w, h, slot, lms };

  if (opt->frontal_eps > 0.0)
    {
      int tried = n_cand;

      n_cand = select_frontal (model, &src, cand, n_cand, opt, &t, cancellable, progress,
                               user_data, error);
      if (n_cand < 0)
        return NULL;
      if (n_cand == 0)
        {
          g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                       "no face is frontal within %g pixels (%d of %d faces read)",
                       opt->frontal_eps, tried - t.n_failed, tried);
          return NULL;
        }
    }

  acc = pal_gradcam_accum_new (n_classes, w, h);
  if (!accumulate (model, layer, &src, cand, n_cand, opt, acc, &t, cancellable, progress,
                   user_data, error))
    return NULL;

  m = pal_gradcam_accum_finish (acc);
  m->map_width = fw;
  m->map_height = fh;
  m->layer = g_strdup (pal_graph_node_name (g, layer));
  m->frontal_eps = opt->frontal_eps;
  m->n_split = n_split;
  m->n_no_landmarks = t.n_no_landmarks;
  m->n_not_frontal = t.n_not_frontal;
  m->n_failed = t.n_failed;
  if (opt->frontal_eps > 0.0)
    m->frontal_ref = t.frontal_ref;
  return m;
}

/* --- reporting ------------------------------------------------------------- */

static const char *
class_name (const char *const *names, int k)
{
  if (names)
    return names[k];
  return k < (int) G_N_ELEMENTS (pal_expression_classes) ? pal_expression_classes[k]
                                                         : "contempt";
}

/* The first @n of the class's top list, separated by spaces ("..." after). */
static char *
top_list (const PalGradcamMeans *m, int k, int n)
{
  GString *s = g_string_new (NULL);
  int shown = MIN (m->n_top[k], n);

  for (int i = 0; i < shown; i++)
    g_string_append_printf (s, "%s%d", i ? " " : "", m->ranking[k][i]);
  if (shown < m->n_top[k])
    g_string_append (s, " ...");
  return g_string_free (s, FALSE);
}

char *
pal_gradcam_means_to_string (const PalGradcamMeans *m, const char *const *names)
{
  GString *s = g_string_new (NULL);
  int n_avg = 0;

  g_string_append_printf (s, "%-10s %6s %5s %3s %7s %6s %6s  %s\n", "class", "images", "acc.",
                          "k", "overlap", "", "chance", "top-k landmarks, most activated first");
  for (int k = 0; k < m->n_classes; k++)
    {
      g_autofree char *acc = m->counts[k] > 0
        ? g_strdup_printf ("%.0f%%", 100.0 * m->correct[k] / m->counts[k])
        : g_strdup ("-");

      g_string_append_printf (s, "%-10s %6d %5s ", class_name (names, k), m->counts[k], acc);
      if (m->k[k] == 0)
        g_string_append_printf (s, "%3s %7s %6s %6s  %s\n", "-", "-", "", "",
                                "(no action units in Table 4)");
      else if (m->counts[k] == 0 || m->flat[k])
        g_string_append_printf (s, "%3d %7s %6s %5.1f%%%s\n", m->k[k], "-", "",
                                100.0 * pal_gradcam_means_chance (m, k),
                                m->flat[k] ? "  (flat map: the same at every landmark)" : "");
      else
        {
          g_autofree char *ov = g_strdup_printf ("%d/%d", m->overlap[k], m->k[k]);
          g_autofree char *top = top_list (m, k, PAL_N_LANDMARKS);

          g_string_append_printf (s, "%3d %7s %5.1f%% %5.1f%%  %s", m->k[k], ov,
                                  100.0 * m->overlap[k] / m->k[k],
                                  100.0 * pal_gradcam_means_chance (m, k), top);
          if (m->n_top[k] < m->k[k])
            g_string_append_printf (s, "%s(only %d landmark%s above 0)", m->n_top[k] ? " " : "",
                                    m->n_top[k], m->n_top[k] == 1 ? "" : "s");
          g_string_append_c (s, '\n');
          n_avg++;
        }
    }
  if (n_avg > 0)
    g_string_append_printf (s, "%-10s %6s %5s %3s %7s %5.1f%% %5.1f%%  (mean over %d emotion%s)\n",
                            "average", "", "", "", "", 100.0 * pal_gradcam_means_average (m),
                            100.0 * pal_gradcam_means_chance (m, -1), n_avg,
                            n_avg == 1 ? "" : "s");
  return g_string_free (s, FALSE);
}

char *
pal_gradcam_means_to_csv (const PalGradcamMeans *m, const char *const *names)
{
  GString *s = g_string_new ("class,images,correct,k,overlap,fraction,chance,top_k,table4\n");

  for (int k = 0; k < m->n_classes; k++)
    {
      int set[PAL_N_LANDMARKS], n_set = pal_emotion_landmarks (k, set);
      double f = pal_gradcam_means_fraction (m, k);
      g_autofree char *top = m->counts[k] > 0 && !m->flat[k] ? top_list (m, k, PAL_N_LANDMARKS)
                                                             : g_strdup ("");
      g_autofree char *name = g_strdup (class_name (names, k));
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      g_strdelimit (name, ",\"\n", '_');
      g_string_append_printf (s, "%s,%d,%d,%d,", name, m->counts[k], m->correct[k], m->k[k]);
      if (isnan (f))
        g_string_append (s, ",,");
      else
        g_string_append_printf (s, "%d,%s,", m->overlap[k],
                                g_ascii_formatd (buf, sizeof buf, "%.4f", f));
      if (m->k[k] > 0)
        g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.4f",
                                             pal_gradcam_means_chance (m, k)));
      g_string_append_c (s, ',');
      g_string_append_printf (s, "%s,", top);
      for (int i = 0; i < n_set; i++)
        g_string_append_printf (s, "%s%d", i ? " " : "", set[i]);
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

/* --- the picture ------------------------------------------------------------- */

/* Side of a panel: the input size, scaled up by a whole factor to at least
 * this many pixels. */
#define PANEL_MIN 192

static const guint8 colour_face[3] = { 235, 235, 235 };
static const guint8 colour_hit[3] = { 40, 230, 90 };      /* top k, in the set */
static const guint8 colour_miss[3] = { 240, 60, 240 };    /* top k, not in it */

/* Discs with a dark outline at the points (x[i], y[i]) of @image (RGB),
 * drawn with Cairo. */
static void
draw_discs (PalImage *image, const float *x, const float *y, int n, const guint8 rgb[3],
            double radius)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  guint8 *d;
  int stride;

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, image->width, image->height);
  cairo_surface_flush (surface);
  d = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int v = 0; v < image->height; v++)
    for (int u = 0; u < image->width; u++)
      {
        const guint8 *p = image->data + ((gsize) v * image->width + u) * 3;

        *(guint32 *) (d + (gsize) v * stride + 4 * u) =
          ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
      }
  cairo_surface_mark_dirty (surface);

  cr = cairo_create (surface);
  cairo_set_line_width (cr, MAX (1.0, radius / 3.0));
  for (int i = 0; i < n; i++)
    {
      /* Pixel centre (x, y) is Cairo's (x + 0.5, y + 0.5). */
      cairo_arc (cr, x[i] + 0.5, y[i] + 0.5, radius, 0, 2 * G_PI);
      cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
      cairo_fill_preserve (cr);
      cairo_set_source_rgb (cr, 0.05, 0.05, 0.05);
      cairo_stroke (cr);
    }
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  for (int v = 0; v < image->height; v++)
    for (int u = 0; u < image->width; u++)
      {
        guint32 px = *(const guint32 *) (d + (gsize) v * stride + 4 * u);
        guint8 *p = image->data + ((gsize) v * image->width + u) * 3;

        p[0] = (px >> 16) & 0xff;
        p[1] = (px >> 8) & 0xff;
        p[2] = px & 0xff;
      }
  cairo_surface_destroy (surface);
}

/* The panel of class @k: mean image, mean map over it, mean face, top k. */
static PalImage *
render_panel (const PalGradcamMeans *m, int k, int scale)
{
  gsize plane = (gsize) m->width * m->height;
  const float *map = m->maps + k * plane, *img = m->images + k * plane * 3;
  g_autoptr (PalImage) mean_image = pal_image_new (m->width, m->height, 3);
  g_autoptr (PalImage) base = NULL;
  PalImage *panel;
  PalLandmarks face;
  float hx[PAL_N_LANDMARKS], hy[PAL_N_LANDMARKS], mx[PAL_N_LANDMARKS], my[PAL_N_LANDMARKS];
  int set[PAL_N_LANDMARKS], n_set = pal_emotion_landmarks (k, set), n_hit = 0, n_miss = 0;
  float lo, hi;

  for (gsize i = 0; i < plane * 3; i++)
    mean_image->data[i] = (guint8) CLAMP (lrintf (img[i]), 0, 255);
  base = pal_image_resize (mean_image, m->width * scale, m->height * scale);
  if (m->counts[k] == 0)
    return g_steal_pointer (&base);

  pal_map_range (map, (int) plane, &lo, &hi);
  panel = pal_render_overlay (base, map, m->width, m->height, lo, hi, PAL_COLORMAP_JET, 0.6f);

  for (int j = 0; j < PAL_N_LANDMARKS; j++)
    {
      face.x[j] = (m->faces[k].x[j] + 0.5f) * scale - 0.5f;
      face.y[j] = (m->faces[k].y[j] + 0.5f) * scale - 0.5f;
    }
  pal_render_landmarks (panel, &face, colour_face, MAX (1.0f, scale * 0.35f));
  for (int i = 0; i < m->n_top[k]; i++)
    {
      int j = m->ranking[k][i];

      if (pal_landmarks_overlap (&j, 1, set, n_set))
        {
          hx[n_hit] = face.x[j];
          hy[n_hit++] = face.y[j];
        }
      else
        {
          mx[n_miss] = face.x[j];
          my[n_miss++] = face.y[j];
        }
    }
  draw_discs (panel, mx, my, n_miss, colour_miss, MAX (2.5, scale * 0.8));
  draw_discs (panel, hx, hy, n_hit, colour_hit, MAX (2.5, scale * 0.8));
  return panel;
}

/* The overlap table as a picture, the fraction column shaded. */
static PalImage *
render_table (const PalGradcamMeans *m, const char *const *names)
{
  enum { COLS = 7, FRACTION = 4, CHANCE = 5 };
  static const char *const header[COLS] = {
    "class", "images", "k", "overlap", "fraction", "chance", "most activated landmarks",
  };
  int rows = m->n_classes + 2;
  GPtrArray *cells = g_ptr_array_new_with_free_func (g_free);
  g_autofree float *shade = g_new (float, (rows - 1) * (COLS - 1));
  double avg = pal_gradcam_means_average (m);
  PalImage *table;

  for (int i = 0; i < (rows - 1) * (COLS - 1); i++)
    shade[i] = NAN;
  for (int c = 0; c < COLS; c++)
    g_ptr_array_add (cells, g_strdup (header[c]));
  for (int k = 0; k < m->n_classes; k++)
    {
      double f = pal_gradcam_means_fraction (m, k);
      gboolean has = !isnan (f);

      g_ptr_array_add (cells, g_strdup (class_name (names, k)));
      g_ptr_array_add (cells, g_strdup_printf ("%d", m->counts[k]));
      g_ptr_array_add (cells, m->k[k] ? g_strdup_printf ("%d", m->k[k]) : g_strdup ("-"));
      g_ptr_array_add (cells, has ? g_strdup_printf ("%d/%d", m->overlap[k], m->k[k])
                                  : g_strdup ("-"));
      g_ptr_array_add (cells, has ? g_strdup_printf ("%.3f", f) : g_strdup ("-"));
      g_ptr_array_add (cells, m->k[k] ? g_strdup_printf ("%.3f", pal_gradcam_means_chance (m, k))
                                      : g_strdup ("-"));
      g_ptr_array_add (cells, has && m->n_top[k] == 0 ? g_strdup ("(none above 0)")
                              : has ? top_list (m, k, 8)
                           : g_strdup (!m->k[k] ? "(no action units in Table 4)"
                                       : m->flat[k] ? "(flat map)" : ""));
      if (has)
        shade[k * (COLS - 1) + FRACTION - 1] = (float) f;
    }
  g_ptr_array_add (cells, g_strdup ("average"));
  for (int c = 1; c < COLS; c++)
    if (c == FRACTION && !isnan (avg))
      g_ptr_array_add (cells, g_strdup_printf ("%.3f", avg));
    else if (c == CHANCE && !isnan (avg))
      g_ptr_array_add (cells, g_strdup_printf ("%.3f", pal_gradcam_means_chance (m, -1)));
    else
      g_ptr_array_add (cells, g_strdup (""));
  if (!isnan (avg))
    shade[m->n_classes * (COLS - 1) + FRACTION - 1] = (float) avg;
  table = pal_render_table ((const char *const *) cells->pdata, rows, COLS, shade,
                            PAL_COLORMAP_VIRIDIS,
                            "Top-k landmarks against the Table 4 set (k = its size), as Table 5; "
                            "chance = k / 68");
  g_ptr_array_unref (cells);
  return table;
}

PalImage *
pal_gradcam_means_render (const PalGradcamMeans *m, const char *const *names,
                          const char *title)
{
  int side = MAX (m->width, m->height), scale = MAX (1, (PANEL_MIN + side - 1) / side);
  PalImage *panels[PAL_ANALYSIS_MAX_CLASSES];
  char *titles[PAL_ANALYSIS_MAX_CLASSES];
  PalImage *parts[3], *stack, *out;

  for (int k = 0; k < m->n_classes; k++)
    {
      panels[k] = render_panel (m, k, scale);
      if (m->counts[k] == 0)
        titles[k] = g_strdup_printf ("%s: no images", class_name (names, k));
      else if (m->k[k] == 0)
        titles[k] = g_strdup_printf ("%s (%d)", class_name (names, k), m->counts[k]);
      else if (m->flat[k])
        titles[k] = g_strdup_printf ("%s (%d): flat map", class_name (names, k), m->counts[k]);
      else
        titles[k] = g_strdup_printf ("%s (%d): %d/%d", class_name (names, k), m->counts[k],
                                     m->overlap[k], m->k[k]);
    }
  parts[0] = pal_render_grid (panels, (const char *const *) titles, m->n_classes,
                              MIN (m->n_classes, 4), 8, title);
  parts[1] = pal_render_text ("Each class: its mean image under its mean Grad-CAM map "
                              "(coloured over the map's own range) and its mean face.\n"
                              "Top-k landmarks: green in the class's Table 4 set, "
                              "magenta outside it.",
                              PAL_RENDER_TEXT_SIZE, FALSE, NULL);
  parts[2] = render_table (m, names);
  stack = pal_render_stack (parts, 3, 10);
  out = pal_render_grid (&stack, NULL, 1, 1, 10, NULL);
  for (int k = 0; k < m->n_classes; k++)
    {
      pal_image_free (panels[k]);
      g_free (titles[k]);
    }
  for (int i = 0; i < 3; i++)
    pal_image_free (parts[i]);
  pal_image_free (stack);
  return out;
}
