/* pal-faceapi.c: face-api's detector, landmark and expression nets
 *
 * The nets are written in the architecture text form (pal-arch.h) and
 * filled from the tfjs weights:
 *   conv filters      [kh, kw, in, out]  -> weight [out, in, kh, kw]
 *   depthwise filter  [kh, kw, C, 1]     -> weight [C, 1, kh, kw], groups = C
 *   fc/weights        [in, out]          -> weight [out, in]
 * A tfjs tensor "dense0/conv1/pointwise_filter" fills node "dense0.conv1",
 * "dense0/conv1/depthwise_filter" node "dense0.conv1.depthwise".
 */
#include "pal-faceapi.h"
#include "pal-arch.h"
#include "pal-error.h"
#include "pal-exec.h"
#include "pal-loss.h"
#include "pal-model-io.h"
#include "pal-tfjs.h"
#include "ops/pal-ops.h"

#include <math.h>
#include <string.h>

#define FEATURE_SIZE 112
#define N_EXPRESSIONS 7

static const float feature_mean[3] = { 122.782f, 117.001f, 104.298f };
static const float detector_mean[3] = { 117.001f, 114.697f, 97.404f };
static const double anchors[5][2] = {
  { 1.603231, 2.094468 }, { 6.041143, 7.080126 }, { 2.882459, 3.518061 },
  { 4.266906, 5.178857 }, { 9.041765, 10.66308 },
};
#define DETECTOR_IOU 0.4

/* Our class k is face-api's output perm[k] (face-api: neutral, happy, sad,
 * angry, fearful, disgusted, surprised). */
static const int expression_perm[N_EXPRESSIONS] = { 0, 1, 2, 6, 4, 5, 3 };

/* The detector built for one input size. */
typedef struct {
  int           size;   /* 0: an empty slot */
  PalModel     *model;
  PalWorkspace *ws;
} Detector;

/* Sizes kept built at once: the default, and the smaller ones a photo
 * without a face at the default is tried at (pal-faces.c). */
#define N_DETECTORS 3

struct _PalFaceApi {
  char           *dir;
  PalTfjsWeights *det_weights;   /* kept to build the detector at other sizes */
  Detector        det[N_DETECTORS];   /* det[0]: the last used */
  PalModel       *lm, *expr;
  PalWorkspace   *lm_ws, *expr_ws;
};

char *
pal_faceapi_default_dir (void)
{
  static const char *const dirs[] = {
#ifdef PAL_FACEAPI_SOURCE_DIR
    PAL_FACEAPI_SOURCE_DIR,
#endif
#ifdef PAL_FACEAPI_INSTALLED_DIR
    PAL_FACEAPI_INSTALLED_DIR,
#endif
  };
  const char *env = g_getenv ("PAL_FACEAPI_DIR");

  if (env && *env)
    return g_strdup (env);
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    if (g_file_test (dirs[i], G_FILE_TEST_IS_DIR))
      return g_strdup (dirs[i]);
  return g_strdup (PAL_FACEAPI_DEFAULT_DIR);
}

/* TF "SAME": out = ceil(in / s), the odd pixel of padding after. */
static void
same_pads (int in, int k, int s, int *before, int *after)
{
  int out = (in + s - 1) / s;
  int total = MAX ((out - 1) * s + k - in, 0);

  *before = total / 2;
  *after = total - total / 2;
}

/* --- architectures --------------------------------------------------------- */

/* A separable conv of face-api: depthwise 3x3 (SAME, stride s), then 1x1
 * with bias.  @size is the input's side; returns the output's. */
static int
sepconv_text (GString *s, const char *name, const char *in, int cin, int cout, int size,
              int stride, const char *act)
{
  int a, b;

  same_pads (size, 3, stride, &a, &b);
  g_string_append_printf (s, "conv %s.depthwise in=%s out=%d k=3 stride=%d pad=%d,%d,%d,%d "
                             "groups=%d bias=0\n", name, in, cin, stride, a, a, b, b, cin);
  g_string_append_printf (s, "conv %s out=%d k=1%s%s\n", name, cout, act ? " act=" : "",
                          act ? act : "");
  return (size + stride - 1) / stride;
}

/* face-api's denseBlock4: out1 = relu(conv0(x)) (stride 2); out2..4 linear
 * separable convs of relu(sum of the earlier outputs); relu(sum of all). */
static int
dense_block_text (GString *s, int blk, const char *in, int cin, int cout, int size)
{
  g_autofree char *p = g_strdup_printf ("dense%d", blk);
  int a, b;

  if (blk == 0)
    {
      same_pads (size, 3, 2, &a, &b);
      g_string_append_printf (s, "conv %s.conv0 in=%s out=%d k=3 stride=2 pad=%d,%d,%d,%d "
                                 "act=relu\n", p, in, cout, a, a, b, b);
      size = (size + 1) / 2;
    }
  else
    {
      g_autofree char *c0 = g_strdup_printf ("%s.conv0", p);
      size = sepconv_text (s, c0, in, cin, cout, size, 2, "relu");
    }
  g_string_append_printf (s, "# %s: %dx%dx%d\n", p, cout, size, size);
  for (int k = 1; k <= 3; k++)
    {
      g_autofree char *ck = g_strdup_printf ("%s.conv%d", p, k);
      g_autofree char *src = k == 1 ? g_strdup_printf ("%s.conv0", p)
                                    : g_strdup_printf ("%s.relu%d", p, k);

      sepconv_text (s, ck, src, cout, cout, size, 1, NULL);
      if (k < 3)
        {
          g_autofree char *prev = k == 1 ? g_strdup_printf ("%s.conv0", p)
                                         : g_strdup_printf ("%s.sum%d", p, k);
          g_string_append_printf (s, "add %s.sum%d in=%s,%s.conv%d\n"
                                     "relu %s.relu%d\n", p, k + 1, prev, p, k, p, k + 1);
        }
    }
  g_string_append_printf (s, "add %s in=%s.sum3,%s.conv3 act=relu\n", p, p, p);
  return size;
}

static char *
feature_net_text (const char *title, int n_out)
{
  GString *s = g_string_new (NULL);
  static const int ch[] = { 32, 64, 128, 256 };
  int size = FEATURE_SIZE, cin = 3;
  char in[16] = "data";

  g_string_append_printf (s, "# %s (face-api 1.7.15), TF SAME padding written out\n"
                             "input data shape=3x%dx%d\n", title, size, size);
  for (int b = 0; b < 4; b++)
    {
      size = dense_block_text (s, b, in, cin, ch[b], size);
      g_snprintf (in, sizeof in, "dense%d", b);
      cin = ch[b];
    }
  g_string_append_printf (s, "gap pool\nflatten flatten\nlinear fc out=%d\n", n_out);
  return g_string_free (s, FALSE);
}

static char *
detector_text (int input)
{
  GString *s = g_string_new (NULL);
  static const int ch[] = { 16, 32, 64, 128, 256, 512 };
  int size = input - 2, a, b;

  g_string_append_printf (s, "# tiny face detector (face-api 1.7.15), input %d\n"
                             "input data shape=3x%dx%d\n"
                             "conv conv0 out=16 k=3 act=leaky:0.1\n", input, input, input);
  for (int i = 0; i < 6; i++)
    {
      int stride = i < 5 ? 2 : 1;

      if (i > 0)
        {
          g_autofree char *name = g_strdup_printf ("conv%d", i);
          g_autofree char *src = g_strdup_printf ("pool%d", i - 1);
          g_string_append_printf (s, "conv %s.depthwise in=%s out=%d k=3 pad=1 groups=%d bias=0\n"
                                     "conv %s out=%d k=1 act=leaky:0.1\n",
                                  name, src, ch[i - 1], ch[i - 1], name, ch[i]);
        }
      same_pads (size, 2, stride, &a, &b);
      g_string_append_printf (s, "maxpool pool%d k=2 stride=%d pad=%d,%d,%d,%d\n",
                              i, stride, a, a, b, b);
      size = (size + stride - 1) / stride;
    }
  g_string_append (s, "conv conv8 out=25 k=1\n");
  return g_string_free (s, FALSE);
}

/* --- weights ------------------------------------------------------------------ */

/* Fills every parameter of @model from @w (TF layouts converted). */
static gboolean
fill_weights (PalModel *model, const PalTfjsWeights *w, gboolean permute_fc, GError **error)
{
  PalGraph *g = pal_model_get_graph (model);
  float *params = pal_model_get_params (model);

  for (int p = 0; p < pal_graph_get_n_params (g); p++)
    {
      const char *pname = pal_graph_param_name (g, p);
      const char *dot = strrchr (pname, '.');
      g_autofree char *node = g_strndup (pname, dot - pname);
      gboolean is_bias = strcmp (dot + 1, "bias") == 0;
      gboolean depthwise = g_str_has_suffix (node, ".depthwise");
      gint64 shape[4];
      int nd = pal_graph_param_shape (g, p, shape);
      float *dst = params + pal_graph_param_offset (g, p);
      g_autofree char *prefix = NULL;
      g_autofree char *tname = NULL;
      const PalTfjsTensor *t;

      if (depthwise)
        node[strlen (node) - strlen (".depthwise")] = 0;
      prefix = g_strdelimit (g_strdup (node), ".", '/');

      if (is_bias)
        {
          tname = g_strdup_printf ("%s/bias", prefix);
          if (!(t = pal_tfjs_require (w, tname, 1, shape, error)))
            return FALSE;
          for (gint64 k = 0; k < shape[0]; k++)
            dst[k] = t->data[permute_fc && strcmp (prefix, "fc") == 0 ? expression_perm[k] : k];
        }
      else if (nd == 2)   /* fc: [in, out] -> [out, in] */
        {
          gint64 tf[2] = { shape[1], shape[0] };
          gint64 in = shape[1], out = shape[0];

          tname = g_strdup_printf ("%s/weights", prefix);
          if (!(t = pal_tfjs_require (w, tname, 2, tf, error)))
            return FALSE;
          for (gint64 o = 0; o < out; o++)
            {
              gint64 src = permute_fc ? expression_perm[o] : o;
              for (gint64 i = 0; i < in; i++)
                dst[o * in + i] = t->data[i * out + src];
            }
        }
      else if (depthwise)  /* [kh, kw, C, 1] -> [C, 1, kh, kw] */
        {
          gint64 C = shape[0], kh = shape[2], kw = shape[3];
          gint64 tf[4] = { kh, kw, C, 1 };

          tname = g_strdup_printf ("%s/depthwise_filter", prefix);
          if (!(t = pal_tfjs_require (w, tname, 4, tf, error)))
            return FALSE;
          for (gint64 c = 0; c < C; c++)
            for (gint64 y = 0; y < kh; y++)
              for (gint64 x = 0; x < kw; x++)
                dst[(c * kh + y) * kw + x] = t->data[(y * kw + x) * C + c];
        }
      else                 /* [kh, kw, in, out] -> [out, in, kh, kw] */
        {
          gint64 O = shape[0], I = shape[1], kh = shape[2], kw = shape[3];
          gint64 tf[4] = { kh, kw, I, O };
          g_autofree char *full = g_strdup_printf ("%s/filters", prefix);

          tname = g_strdup_printf ("%s/%s", prefix,
                                   pal_tfjs_lookup (w, full) ? "filters" : "pointwise_filter");
          if (!(t = pal_tfjs_require (w, tname, 4, tf, error)))
            return FALSE;
          for (gint64 o = 0; o < O; o++)
            for (gint64 i = 0; i < I; i++)
              for (gint64 y = 0; y < kh; y++)
                for (gint64 x = 0; x < kw; x++)
                  dst[((o * I + i) * kh + y) * kw + x] = t->data[((y * kw + x) * I + i) * O + o];
        }
    }
  return TRUE;
}

static PalTfjsWeights *
load_manifest (const char *dir, const char *model_name, GError **error)
{
  g_autofree char *file = g_strdup_printf ("%s-weights_manifest.json", model_name);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_IO,
                   "%s: no such folder: face-api's models are not installed "
                   "(run tools/fetch-face-api, or set PAL_FACEAPI_DIR)", dir);
      return NULL;
    }
  return pal_tfjs_load (path, error);
}

static PalModel *
build_model (const char *text, const PalTfjsWeights *w, gboolean permute_fc, GError **error)
{
  g_autoptr (PalModel) m = pal_model_new (text, error);

  if (!m || !fill_weights (m, w, permute_fc, error))
    return NULL;
  return g_steal_pointer (&m);
}

static PalModel *
expression_model (const PalTfjsWeights *w, GError **error)
{
  g_autofree char *text = feature_net_text ("face expression net", N_EXPRESSIONS);
  PalModel *m = build_model (text, w, TRUE, error);
  char buf[3][G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *mean = NULL;

  if (!m)
    return NULL;
  for (int c = 0; c < 3; c++)
    g_ascii_formatd (buf[c], sizeof buf[c], "%.9g", feature_mean[c] / 255.0);
  mean = g_strdup_printf ("%s,%s,%s", buf[0], buf[1], buf[2]);
  pal_model_set_class_names (m, pal_expression_classes);
  pal_model_set_meta (m, "input.mean", mean);
  pal_model_set_meta (m, "input.std", "1,1,1");
  pal_model_set_meta (m, "faceapi.model",
                      "face_expression_model of @vladmandic/face-api 1.7.15 (MIT)");
  pal_model_set_meta (m, "faceapi.preprocess",
                      "RGB crop of the landmarks' box grown by 20%, zero-padded to a centred "
                      "square, TF legacy bilinear resize to 112x112, (pixel - mean RGB) / 255");
  pal_model_set_meta (m, "faceapi.classes",
                      "face-api's outputs neutral,happy,sad,angry,fearful,disgusted,surprised "
                      "mapped to the canonical order");
  /* the layer to look at by default (the inspector, pal attribute): dense3,
   * the last spatial layer, is followed only by global average pooling and
   * the classifier, so Grad is flat there; after dense2 a whole block still
   * follows, and every map says something, at twice the resolution */
  pal_model_set_meta (m, "inspect.layer", "dense2");
  return m;
}

PalModel *
pal_faceapi_load_expression_model (const char *dir, GError **error)
{
  g_autofree char *d = dir ? g_strdup (dir) : pal_faceapi_default_dir ();
  g_autoptr (PalTfjsWeights) w = load_manifest (d, "face_expression_model", error);

  return w ? expression_model (w, error) : NULL;
}

PalModel *
pal_faceapi_open_model (const char *path, const char *arch, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  if (!arch && strcmp (path, PAL_FACEAPI_MODEL_NAME) == 0)
    return pal_faceapi_load_expression_model (NULL, error);   /* says where to get it */
  return pal_model_load (path, arch, error);                   /* its errors name the file */
}

static PalWorkspace *
inference_workspace (PalModel *m, GError **error)
{
  PalWorkspace *ws = pal_workspace_new (m, 1, error);

  if (ws && !pal_workspace_set_weights_fixed (ws, TRUE, error))
    g_clear_pointer (&ws, pal_workspace_free);
  return ws;
}

static void
detector_clear (Detector *d)
{
  g_clear_pointer (&d->ws, pal_workspace_free);
  g_clear_pointer (&d->model, pal_model_unref);
  d->size = 0;
}

/* Makes fa->det[0] the detector of @size: found among those built (moved
 * to the front), else built in place of the least recently used. */
static gboolean
set_detector_size (PalFaceApi *fa, int size, GError **error)
{
  g_autofree char *text = NULL;
  PalModel *m;
  PalWorkspace *ws;
  Detector found;
  int i;

  for (i = 0; i < N_DETECTORS && fa->det[i].size != size; i++)
    ;
  if (i < N_DETECTORS)
    {
      found = fa->det[i];
      memmove (&fa->det[1], &fa->det[0], (gsize) i * sizeof (Detector));
      fa->det[0] = found;
      return TRUE;
    }
  if (size < 32 || size > 4096 || size % 32)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the detector's input size must be a multiple of 32 from 32 to 4096, not %d",
                   size);
      return FALSE;
    }
  text = detector_text (size);
  if (!(m = build_model (text, fa->det_weights, FALSE, error)))
    return FALSE;
  if (!(ws = inference_workspace (m, error)))
    {
      pal_model_unref (m);
      return FALSE;
    }
  detector_clear (&fa->det[N_DETECTORS - 1]);
  memmove (&fa->det[1], &fa->det[0], (N_DETECTORS - 1) * sizeof (Detector));
  fa->det[0] = (Detector) { size, m, ws };
  return TRUE;
}

void
pal_faceapi_free (PalFaceApi *fa)
{
  if (!fa)
    return;
  for (int i = 0; i < N_DETECTORS; i++)
    detector_clear (&fa->det[i]);
  pal_workspace_free (fa->lm_ws);
  pal_workspace_free (fa->expr_ws);
  g_clear_pointer (&fa->lm, pal_model_unref);
  g_clear_pointer (&fa->expr, pal_model_unref);
  pal_tfjs_free (fa->det_weights);
  g_free (fa->dir);
  g_free (fa);
}

PalFaceApi *
pal_faceapi_load (const char *dir, GError **error)
{
  g_autoptr (PalFaceApi) fa = g_new0 (PalFaceApi, 1);
  g_autoptr (PalTfjsWeights) lw = NULL;
  g_autoptr (PalTfjsWeights) ew = NULL;
  g_autofree char *lm_text = NULL;

  fa->dir = dir ? g_strdup (dir) : pal_faceapi_default_dir ();
  if (!(fa->det_weights = load_manifest (fa->dir, "tiny_face_detector_model", error))
      || !(lw = load_manifest (fa->dir, "face_landmark_68_model", error))
      || !(ew = load_manifest (fa->dir, "face_expression_model", error)))
    return NULL;
  if (!set_detector_size (fa, PAL_FACEAPI_INPUT_SIZE, error))
    return NULL;
  lm_text = feature_net_text ("face landmark 68 net", 2 * PAL_N_LANDMARKS);
  if (!(fa->lm = build_model (lm_text, lw, FALSE, error))
      || !(fa->expr = expression_model (ew, error))
      || !(fa->lm_ws = inference_workspace (fa->lm, error))
      || !(fa->expr_ws = inference_workspace (fa->expr, error)))
    return NULL;
  return g_steal_pointer (&fa);
}

PalModel *
pal_faceapi_expression_model (PalFaceApi *fa)
{
  return fa->expr;
}

/* --- pre- and post-processing ------------------------------------------------- */

static double
js_round (double v)
{
  return floor (v + 0.5);
}

/* Box.clipAtImageBorders, then floor: integer x, y, w, h. */
static void
clip_box (double x, double y, double w, double h, int img_w, int img_h, int r[4])
{
  double cx = MAX (x, 0.0), cy = MAX (y, 0.0);
  double cw = MIN (x + w - cx, img_w - cx), ch = MIN (y + h - cy, img_h - cy);

  r[0] = (int) floor (cx);
  r[1] = (int) floor (cy);
  r[2] = (int) floor (cw);
  r[3] = (int) floor (ch);
}

static gboolean
rect_ok (const PalImage *image, const int r[4])
{
  return r[2] >= 1 && r[3] >= 1 && r[0] >= 0 && r[1] >= 0 && r[0] + r[2] <= image->width
         && r[1] + r[3] <= image->height;
}

void
pal_faceapi_crop_tensor (const PalImage *image, const int rect[4], int size, gboolean centre,
                         const float mean[3], float *dst)
{
  int w = rect[2], h = rect[3], side = MAX (w, h), diff = ABS (h - w);
  int after = (int) js_round (diff * (centre ? 0.5 : 1.0)), before = centre ? diff - after : 0;
  int top = h < w ? before : 0, left = h > w ? before : 0;
  gsize plane = (gsize) size * size;
  g_autofree float *hwc = g_new (float, plane * 3);
  g_autoptr (PalImage) rgb = NULL;
  const PalImage *im = image;
  const guint8 *src;

  g_return_if_fail (rect_ok (image, rect));
  if (image->channels != 3)
    im = rgb = pal_image_to_rgb (image);
  src = im->data + ((gsize) rect[1] * im->width + rect[0]) * 3;
  pal_resize_bilinear_legacy (hwc, size, size, src, h, w, 3, (gsize) im->width * 3,
                              side, side, top, left);
  for (int c = 0; c < 3; c++)
    for (gsize k = 0; k < plane; k++)
      dst[c * plane + k] = (hwc[k * 3 + c] - mean[c]) / 255.f;
}

static double
iou (const double *a, const double *b)
{
  double iw = MAX (0.0, MIN (a[0] + a[2], b[0] + b[2]) - MAX (a[0], b[0]));
  double ih = MAX (0.0, MIN (a[1] + a[3], b[1] + b[3]) - MAX (a[1], b[1]));
  double inter = iw * ih;

  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

typedef struct {
  double box[4];       /* relative to the image */
  double score;
  int    index;
} Cand;

/* ascending score, then index: the last is taken first, as face-api */
static int
cand_cmp (gconstpointer pa, gconstpointer pb)
{
  const Cand *a = pa, *b = pb;

  if (a->score != b->score)
    return a->score < b->score ? -1 : 1;
  return a->index - b->index;
}

PalFaceBox *
pal_faceapi_detect (PalFaceApi *fa, const PalImage *image, int input_size,
                    float score_threshold, int *n_faces, GError **error)
{
  int S = input_size ? input_size : PAL_FACEAPI_INPUT_SIZE, cells;
  int W = image->width, H = image->height, side = MAX (W, H);
  g_autofree float *x = NULL;
  g_autoptr (GArray) cands = g_array_new (FALSE, FALSE, sizeof (Cand));
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (PalFaceBox));
  const float *head;
  double scale, cx_f, cy_f;
  int rect[4] = { 0, 0, W, H };

  *n_faces = 0;
  if (!(score_threshold >= 0.f && score_threshold < 1.f))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the score threshold must be in [0, 1), not %g", score_threshold);
      return NULL;
    }
  if (!set_detector_size (fa, S, error))
    return NULL;
  cells = S / 32;
  x = g_new (float, (gsize) 3 * S * S);
  pal_faceapi_crop_tensor (image, rect, S, FALSE, detector_mean, x);
  head = pal_workspace_forward (fa->det[0].ws, x, 1, FALSE);   /* [25, cells, cells] */

  scale = (double) S / side;
  cx_f = (double) S / MAX (js_round (W * scale), 1.0);   /* undo the padding */
  cy_f = (double) S / MAX (js_round (H * scale), 1.0);
  for (int row = 0; row < cells; row++)
    for (int col = 0; col < cells; col++)
      for (int a = 0; a < 5; a++)
        {
          const float *v = head + (gsize) a * 5 * cells * cells + (gsize) row * cells + col;
          gsize st = (gsize) cells * cells;
          Cand c;
          double bw, bh, ctx, cty;

          c.score = 1.0 / (1.0 + exp (-(double) v[4 * st]));
          if (c.score <= score_threshold)
            continue;
          ctx = (col + 1.0 / (1.0 + exp (-(double) v[0]))) / cells * cx_f;
          cty = (row + 1.0 / (1.0 + exp (-(double) v[st]))) / cells * cy_f;
          bw = exp ((double) v[2 * st]) * anchors[a][0] / cells * cx_f;
          bh = exp ((double) v[3 * st]) * anchors[a][1] / cells * cy_f;
          c.box[0] = ctx - bw / 2;
          c.box[1] = cty - bh / 2;
          c.box[2] = bw;
          c.box[3] = bh;
          c.index = (int) cands->len;
          g_array_append_val (cands, c);
        }

  /* greedy NMS: keep the best, drop those overlapping it by more than 0.4 */
  g_array_sort (cands, cand_cmp);
  {
    g_autofree gboolean *gone = g_new0 (gboolean, cands->len + 1);

    for (int i = (int) cands->len - 1; i >= 0; i--)
      {
        const Cand *cur = &g_array_index (cands, Cand, i);
        PalFaceBox b;

        if (gone[i])
          continue;
        b.x = (float) (cur->box[0] * W);
        b.y = (float) (cur->box[1] * H);
        b.w = (float) (cur->box[2] * W);
        b.h = (float) (cur->box[3] * H);
        b.score = (float) cur->score;
        g_array_append_val (out, b);
        for (int j = i - 1; j >= 0; j--)
          if (!gone[j] && iou (cur->box, g_array_index (cands, Cand, j).box) > DETECTOR_IOU)
            gone[j] = TRUE;
      }
  }
  *n_faces = (int) out->len;
  return (PalFaceBox *) g_array_free (g_steal_pointer (&out), FALSE);
}

gboolean
pal_faceapi_landmarks (PalFaceApi *fa, const PalImage *image, const PalFaceBox *box,
                       PalLandmarks *out, GError **error)
{
  g_autofree float *x = g_new (float, 3 * FEATURE_SIZE * FEATURE_SIZE);
  const float *raw;
  int r[4];
  double w, h, s, sw, sh, padx, pady;
  gboolean finite = isfinite (box->x) && isfinite (box->y) && isfinite (box->w)
                    && isfinite (box->h) && fabsf (box->x) < 1e9f && fabsf (box->y) < 1e9f
                    && fabsf (box->w) < 1e9f && fabsf (box->h) < 1e9f;

  if (finite)
    clip_box (box->x, box->y, box->w, box->h, image->width, image->height, r);
  if (!finite || !rect_ok (image, r))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the face box (%.1f, %.1f, %.1f x %.1f) lies outside the %d x %d image",
                   box->x, box->y, box->w, box->h, image->width, image->height);
      return FALSE;
    }
  pal_faceapi_crop_tensor (image, r, FEATURE_SIZE, TRUE, feature_mean, x);
  raw = pal_workspace_forward (fa->lm_ws, x, 1, FALSE);

  /* FaceLandmark68NetBase.postProcess: undo the padding to a square */
  w = r[2];
  h = r[3];
  s = (double) FEATURE_SIZE / MAX (w, h);
  sw = w * s;
  sh = h * s;
  padx = sw < sh ? fabs (sw - sh) / 2 : 0.0;
  pady = sh < sw ? fabs (sw - sh) / 2 : 0.0;
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      double xr = ((double) raw[2 * k] * FEATURE_SIZE - padx) / sw;
      double yr = ((double) raw[2 * k + 1] * FEATURE_SIZE - pady) / sh;

      /* face-api's frame has pixel centres at +0.5 */
      out->x[k] = (float) (xr * w + box->x - 0.5);
      out->y[k] = (float) (yr * h + box->y - 0.5);
    }
  return TRUE;
}

gboolean
pal_faceapi_expression_rect (const PalImage *image, const PalLandmarks *landmarks,
                             const PalFaceBox *box, int rect[4])
{
  double x, y, w, h;

  if (landmarks)
    {
      double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;

      for (int k = 0; k < PAL_N_LANDMARKS; k++)
        {
          double lx = landmarks->x[k] + 0.5, ly = landmarks->y[k] + 0.5;
          x0 = MIN (x0, lx); x1 = MAX (x1, lx);
          y0 = MIN (y0, ly); y1 = MAX (y1, ly);
        }
      w = x1 - x0;
      h = y1 - y0;
      x = x0 - w * 0.1;
      y = y0 - h * 0.1;
      w *= 1.2;
      h *= 1.2;
    }
  else if (box)
    {
      x = box->x; y = box->y; w = box->w; h = box->h;
    }
  else
    return FALSE;
  if (!(isfinite (x) && isfinite (y) && isfinite (w) && isfinite (h))
      || fabs (x) > 1e9 || fabs (y) > 1e9 || fabs (w) > 1e9 || fabs (h) > 1e9)
    return FALSE;
  clip_box (x, y, w, h, image->width, image->height, rect);
  return rect_ok (image, rect);
}

static gboolean
expression_of_rect (PalFaceApi *fa, const PalImage *image, const int r[4], float probs[7])
{
  g_autofree float *x = g_new (float, 3 * FEATURE_SIZE * FEATURE_SIZE);
  const float *logits;

  pal_faceapi_crop_tensor (image, r, FEATURE_SIZE, TRUE, feature_mean, x);
  logits = pal_workspace_forward (fa->expr_ws, x, 1, FALSE);
  pal_softmax (probs, logits, 1, N_EXPRESSIONS);
  return TRUE;
}

gboolean
pal_faceapi_expression (PalFaceApi *fa, const PalImage *image, const PalLandmarks *landmarks,
                        const PalFaceBox *box, float probs[7], GError **error)
{
  int r[4];

  if (!pal_faceapi_expression_rect (image, landmarks, box, r))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "the face (%s) lies outside the %d x %d image",
                   landmarks ? "its landmarks" : box ? "its box" : "neither box nor landmarks",
                   image->width, image->height);
      return FALSE;
    }
  return expression_of_rect (fa, image, r, probs);
}

gboolean
pal_faceapi_expression_crop (PalFaceApi *fa, const PalImage *crop, float probs[7],
                             GError **error)
{
  int r[4] = { 0, 0, crop->width, crop->height };

  if (crop->width < 1 || crop->height < 1)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "empty face crop");
      return FALSE;
    }
  return expression_of_rect (fa, crop, r, probs);
}
