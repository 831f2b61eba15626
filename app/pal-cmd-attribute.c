/* pal-cmd-attribute.c: `pal attribute`, what one or two models look at in a face
 *
 * For each model the image is brought to the model's input size (as the
 * loader does it, without augmentation), run once in inference form, and
 * its attribution maps at one node are drawn over the face:
 *
 *   row Grad        |g| summed over the first C1 channels (the half PAL
 *                   constrains), over the rest (free), over all;
 *                   then Grad-CAM of one class;
 *   row Grad*Input  |g| F over the same three sets of channels;
 *                   then the landmark prior (or the input, without landmarks);
 *
 * each map with its colour range under it and, with landmarks, its Pearson
 * correlation with the prior and the share of its mass inside the landmark
 * regions (both at the map's own resolution, where PAL compares them), and
 * the class probabilities as bars.  Two models give two such blocks side by
 * side (the paper's Fig. 7).  Everything is one PNG.
 *
 * "faceapi" for a model is face-api's expression network
 * (pal_faceapi_load_expression_model()); --face crops a photo to one of its
 * faces first (PalFaceFinder), with the finder's landmarks for the prior.
 */
#include "pal-cli.h"
#include "pal-augment.h"
#include "pal-faceapi.h"
#include "pal-faces.h"
#include "pal-image.h"
#include "pal-landmarks.h"
#include "pal-metrics.h"
#include "pal-render.h"

#include <math.h>
#include <string.h>

#define N_MAPS 7   /* grad first/rest/all, gi first/rest/all, Grad-CAM */

enum { GRAD_FIRST, GRAD_REST, GRAD_ALL, GI_FIRST, GI_REST, GI_ALL, CAM };

/* The options every model is drawn with. */
typedef struct {
  const char  *layer;       /* NULL: each model's "pal.layer", else "inspect.layer" */
  const char  *target;      /* "sum" or a class */
  const char  *gradcam;     /* NULL: the predicted class */
  int          c1;          /* -1: the model's pal.c1, else C / 2 */
  PalColormap  cm;
  double       opacity;
  double       sigma;       /* of the prior, px at 224; 0: no landmarks, no prior */
  double       inside;      /* landmark region: prior >= inside x its peak */
  int          size;        /* panels are scaled so their longer side is this */
  gboolean     colour_face; /* the maps over the face in colour, not in grey */
} Options;

/* One model, run on the image. */
typedef struct {
  char         *name;       /* the file's name without .safetensors */
  PalModel     *model;
  int           node;
  const char   *node_name;
  int           in_w, in_h, in_c;
  PalImage     *face;       /* the image at the input size, as the model sees it */
  PalLandmarks  lm;         /* landmarks at the input size */
  PalAttrMaps  *maps;
  float        *cam;        /* [h, w] */
  int           target;     /* PAL_TARGET_SUM or a class */
  int           predicted;
  int           cam_class;
  float        *prior;      /* [h, w] at the map size, NULL without landmarks */
  char         *crop_note;  /* with --face: how the face was cropped */
  double        r[N_MAPS], in[N_MAPS];
} Side;

static void
side_clear (Side *s)
{
  g_free (s->name);
  g_clear_pointer (&s->model, pal_model_unref);
  g_clear_pointer (&s->face, pal_image_free);
  g_clear_pointer (&s->maps, pal_attr_maps_free);
  g_free (s->cam);
  g_free (s->prior);
  g_free (s->crop_note);
}

static const float *
side_map (const Side *s, int k)
{
  const PalAttrMaps *m = s->maps;
  const float *maps[N_MAPS] = { m->grad_first, m->grad_rest, m->grad_all,
                                m->gi_first, m->gi_rest, m->gi_all, s->cam };
  return maps[k];
}

static int
usage_error (const char *message)
{
  g_printerr ("pal attribute: %s (see pal attribute --help)\n", message);
  return 2;
}

static int
fail (GError *error)
{
  g_printerr ("pal attribute: %s\n", error->message);
  return 1;
}

/* A number in the C locale ("%+.2f" and friends), into @buf. */
static const char *
fmt (char *buf, gsize len, const char *format, double v)
{
  return g_ascii_formatd (buf, len, format, v);
}

static gboolean
parse_colormap (const char *s, PalColormap *cm)
{
  static const struct { const char *name; PalColormap cm; } names[] = {
    { "inferno", PAL_COLORMAP_INFERNO }, { "viridis", PAL_COLORMAP_VIRIDIS },
    { "jet", PAL_COLORMAP_JET }, { "gray", PAL_COLORMAP_GRAY }, { "grey", PAL_COLORMAP_GRAY },
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (s, names[i].name) == 0)
      {
        *cm = names[i].cm;
        return TRUE;
      }
  return FALSE;
}

/* "sum" (when @allow_sum), a class name (any case) or a class index. */
static gboolean
parse_class (const Side *s, const char *text, gboolean allow_sum, const char *option,
             int *klass, GError **error)
{
  int K = pal_model_get_n_classes (s->model);
  g_autoptr (GString) names = g_string_new (NULL);
  char *end;
  gint64 v;

  if (allow_sum && g_ascii_strcasecmp (text, "sum") == 0)
    {
      *klass = PAL_TARGET_SUM;
      return TRUE;
    }
  for (int k = 0; k < K; k++)
    if (g_ascii_strcasecmp (text, pal_model_get_class_name (s->model, k)) == 0)
      {
        *klass = k;
        return TRUE;
      }
  v = g_ascii_strtoll (text, &end, 10);
  if (end != text && !*end && v >= 0 && v < K)
    {
      *klass = (int) v;
      return TRUE;
    }
  for (int k = 0; k < K; k++)
    g_string_append_printf (names, "%s%s", k ? ", " : "", pal_model_get_class_name (s->model, k));
  g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "%s '%s' is no class of this model "
               "(%s%s, or 0 .. %d)", option, text, allow_sum ? "sum, " : "", names->str, K - 1);
  return FALSE;
}

/* The node to attribute at: @layer, or the model's own PAL layer, or the
 * layer it suggests for inspection (face-api's expression net: dense2). */
static gboolean
find_node (Side *s, const char *layer, GError **error)
{
  PalGraph *g = pal_model_get_graph (s->model);
  g_autoptr (GString) spatial = g_string_new (NULL);

  if (!layer)
    layer = pal_model_get_meta (s->model, "pal.layer");
  if (!layer)
    layer = pal_model_get_meta (s->model, "inspect.layer");
  if (!layer)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "no --layer given and the model names no PAL layer");
      return FALSE;
    }
  s->node = pal_graph_find (g, layer);
  if (s->node >= 0)
    {
      s->node_name = pal_graph_node_name (g, s->node);
      return TRUE;
    }
  for (int i = 0; i < pal_graph_get_n_nodes (g); i++)
    {
      int c, h, w;

      pal_graph_node_shape (g, i, &c, &h, &w);
      if (h * w >= 2 && pal_graph_node_op (g, i) != PAL_OP_FLATTEN)
        g_string_append_printf (spatial, "%s%s", spatial->len ? ", " : "",
                                pal_graph_node_name (g, i));
    }
  g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID, "no node '%s' (nodes with a map: %s)",
               layer, spatial->len ? spatial->str : "none");
  return FALSE;
}

/* Runs the loaded model of @s on @image: maps, Grad-CAM, prior, agreement. */
static gboolean
run_model (Side *s, const PalImage *image, const PalLandmarks *lm, const Options *opt,
           GError **error)
{
  PalGraph *g = pal_model_get_graph (s->model);
  g_autofree float *x = NULL;
  PalWorkspace *ws;
  float mean[3], std[3];
  int c1 = opt->c1, mh, mw, hw;
  gboolean ok;

  if (!find_node (s, opt->layer, error)
      || !pal_graph_check_attribution_node (g, s->node, FALSE, error)
      || !parse_class (s, opt->target, TRUE, "--target", &s->target, error))
    return FALSE;
  /* the constrained half: --c1, else the C1 the model was trained with */
  if (c1 < 0)
    {
      const char *ch = pal_model_get_meta (s->model, "pal.channels");
      const char *mc1 = pal_model_get_meta (s->model, "pal.c1");

      c1 = g_strcmp0 (ch, "first") == 0 && mc1 ? (int) g_ascii_strtoll (mc1, NULL, 10) : 0;
      c1 = MAX (c1, 0);
    }

  /* the image as the model sees it */
  pal_graph_input_shape (g, &s->in_c, &s->in_h, &s->in_w);
  s->lm = *lm;
  s->face = pal_augment_apply (image, &s->lm, NULL, s->in_w, s->in_h);
  if (s->in_c == 1)
    {
      PalImage *gray = pal_image_to_gray (s->face);
      pal_image_free (s->face);
      s->face = gray;
    }
  x = g_new (float, (gsize) s->in_c * s->in_h * s->in_w);
  pal_model_get_normalisation (s->model, mean, std);
  pal_image_to_tensor (s->face, x, s->in_c, s->in_w, s->in_h, mean, std);

  ws = pal_workspace_new (s->model, 1, error);
  if (!ws)
    return FALSE;
  ok = pal_workspace_set_weights_fixed (ws, TRUE, error)
       && (s->maps = pal_workspace_attribute (ws, x, 1, s->node, s->target, c1, error));
  if (ok)
    {
      const float *p = s->maps->probs;
      int K = s->maps->n_classes;

      s->predicted = 0;
      for (int k = 1; k < K; k++)
        if (p[k] > p[s->predicted])
          s->predicted = k;
      s->cam_class = s->predicted;
      ok = !opt->gradcam || parse_class (s, opt->gradcam, FALSE, "--gradcam", &s->cam_class, error);
    }
  if (ok)
    {
      s->cam = g_new (float, (gsize) s->maps->h * s->maps->w);
      ok = pal_workspace_gradcam (ws, x, 1, s->node, s->cam_class, s->cam, NULL, error);
    }
  pal_workspace_free (ws);
  if (!ok)
    return FALSE;

  /* the prior as PAL compares with it: at the map's size */
  mh = s->maps->h;
  mw = s->maps->w;
  hw = mh * mw;
  if (opt->sigma > 0.0)
    {
      s->prior = g_new (float, hw);
      pal_prior_make (s->prior, mw, mh, lm, image->width, image->height, s->in_w, s->in_h,
                      (float) opt->sigma, 0.0f, NULL);
      for (int k = 0; k < N_MAPS; k++)
        {
          s->r[k] = pal_map_pearson (side_map (s, k), s->prior, hw);
          s->in[k] = pal_map_mass_inside (side_map (s, k), s->prior, hw, opt->inside);
        }
    }
  return TRUE;
}

/* --- --face --------------------------------------------------------------- */

/* "--face N" as "--face=N" and a bare "--face" as "--face=1", in place, so
 * that GOption reads it as an integer option whose value may be left out
 * (a bare "--face" before the IMAGE must not take the IMAGE for N).
 * Returns the new argc. */
static int
join_face_option (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      gboolean number = next && *next;

      if (strcmp (argv[i], "--") == 0)
        break;
      if (strcmp (argv[i], "--face") != 0)
        continue;
      for (const char *c = next; number && *c; c++)
        number = g_ascii_isdigit (*c) || (c == next && *c == '-');
      if (number)
        {
          argv[i] = g_strconcat ("--face=", next, NULL);   /* lives as long as the process */
          memmove (&argv[i + 1], &argv[i + 2], (gsize) (argc - i - 2) * sizeof *argv);
          argv[--argc] = NULL;
        }
      else
        argv[i] = (char *) "--face=1";
    }
  return argc;
}

/* @lm moved by (@dx, @dy) pixels. */
static void
shift_landmarks (PalLandmarks *lm, double dx, double dy)
{
  const double m[6] = { 1.0, 0.0, dx, 0.0, 1.0, dy };

  pal_landmarks_transform (lm, m);
}

/* Face @index (1-based, best score first, as pal faces lists them) of
 * @image, found by a PalFaceFinder with the landmarks of @method, into
 * @face; @note: which face, for the title. */
static gboolean
find_face (const PalImage *image, int index, PalLandmarkMethod method, PalFace *face,
           char **note, GError **error)
{
  g_autoptr (PalFaceFinder) finder = NULL;
  g_autofree PalFace *faces = NULL;
  char score[16];
  int n = 0;

  finder = pal_face_finder_new (NULL, NULL, method, error);
  if (!finder)
    return FALSE;
  faces = pal_face_finder_run (finder, image, 0.0f, FALSE, &n, error);
  if (!faces)
    return FALSE;
  if (n == 0)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "--face: no face found (none with a detector score above 0.5)");
      return FALSE;
    }
  if (index > n)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   "--face %d: the image has only %d face%s (1 .. %d, best first, as "
                   "pal faces lists them)", index, n, n == 1 ? "" : "s", n);
      return FALSE;
    }
  *face = faces[index - 1];
  *note = g_strdup_printf ("face %d of %d (score %s, %s landmarks)", index, n,
                           fmt (score, sizeof score, "%.2f", face->score),
                           pal_landmark_method_name (method));
  return TRUE;
}

/* The square of @image @scale times the bounds of @face_lm about their
 * centre (black outside the image); @origin: its top-left corner. */
static PalImage *
face_crop (const PalImage *image, const PalLandmarks *face_lm, double scale, int origin[2])
{
  float b[4];
  int side;

  pal_landmarks_bounds (face_lm, b);
  side = MAX ((int) lrint (scale * (MAX (b[2] - b[0], b[3] - b[1]) + 1.0)), 8);
  /* a landmark x is the centre of pixel x: the bounds' centre is that of
   * the crop, at origin + side / 2 - 0.5 */
  origin[0] = (int) lrint ((b[0] + b[2] + 1.0) / 2.0 - side / 2.0);
  origin[1] = (int) lrint ((b[1] + b[3] + 1.0) / 2.0 - side / 2.0);
  return pal_image_crop (image, origin[0], origin[1], side, side);
}

/* Loads the model at @path ("faceapi": face-api's expression network) into
 * @s and runs it on @image or, with @face_lm (--face), on the crop of the
 * face they outline, @face_scale (0: the model's default) times their
 * bounds; errors after loading name the model. */
static gboolean
load_and_run (Side *s, const char *path, const PalImage *image, const PalLandmarks *lm,
              const PalLandmarks *face_lm, double face_scale, const Options *opt,
              GError **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autoptr (PalImage) crop = NULL;
  PalLandmarks crop_lm;

  if (strcmp (path, "faceapi") == 0)
    s->name = g_strdup ("face-api expression");
  else
    s->name = g_str_has_suffix (base, ".safetensors")
              ? g_strndup (base, strlen (base) - strlen (".safetensors")) : g_strdup (base);
  s->model = pal_faceapi_open_model (path, NULL, error);
  if (!s->model)
    return FALSE;
  if (face_lm)
    {
      gboolean faceapi = pal_model_get_meta (s->model, "faceapi.model") != NULL;
      double scale = face_scale > 0.0 ? face_scale : pal_face_crop_scale (s->model);
      char num[16];
      int origin[2];

      crop = face_crop (image, face_lm, scale, origin);
      crop_lm = *lm;
      shift_landmarks (&crop_lm, -origin[0], -origin[1]);
      image = crop;
      lm = &crop_lm;
      s->crop_note = g_strdup_printf ("face crop: %s \u00d7 the landmarks' bounds, %d px%s",
                                      fmt (num, sizeof num, "%.2g", scale), crop->width,
                                      face_scale > 0.0 ? "" : faceapi ? " (face-api's)" : "");
    }
  if (!run_model (s, image, lm, opt, error))
    {
      g_prefix_error (error, "%s: ", s->name);
      return FALSE;
    }
  return TRUE;
}

/* --- the picture ---------------------------------------------------------- */

/* One map over the face, its colour bar and its agreement with the prior. */
static PalImage *
map_panel (const Side *s, const PalImage *face, const float *map, float lo, float hi,
           const Options *opt, int k, gboolean flat)
{
  g_autoptr (PalImage) over = NULL, bar = NULL, caption = NULL;
  g_autofree char *text = NULL;
  PalImage *parts[3];

  over = pal_render_overlay (face, map, s->maps->w, s->maps->h, lo, hi, opt->cm,
                             (float) opt->opacity);
  bar = pal_render_colorbar (face->width, 8, lo, hi, opt->cm);
  if (flat)
    text = g_strdup ("flat: the same at every pixel");
  else if (s->prior)
    {
      char r[16], in[16];
      int widest;

      /* on one line, or one number a line where the widest caption would
       * not fit the panel (the same choice for every panel of a model) */
      pal_render_text_size ("r = -0.00   inside 100%", PAL_RENDER_TEXT_SIZE, FALSE, &widest,
                            NULL);
      text = g_strdup_printf ("r = %s%sinside %s%%", fmt (r, sizeof r, "%+.2f", s->r[k]),
                              widest > face->width ? "\n" : "   ",
                              fmt (in, sizeof in, "%.0f", 100.0 * s->in[k]));
    }
  if (text)
    caption = pal_render_text (text, PAL_RENDER_TEXT_SIZE, FALSE, NULL);
  parts[0] = over;
  parts[1] = bar;
  parts[2] = caption;
  return pal_render_stack (parts, 3, 2);
}

/* Under the model's name: its architecture, how it was trained (the PAL
 * settings it carries), the node's shape. */
static char *
model_subtitle (const Side *s)
{
  PalModel *m = s->model;
  const char *layer = pal_model_get_meta (m, "pal.layer");
  const char *att = pal_model_get_meta (m, "pal.attribution");
  const char *ch = pal_model_get_meta (m, "pal.channels");
  const char *c1 = pal_model_get_meta (m, "pal.c1");
  const char *lambda = pal_model_get_meta (m, "pal.lambda");
  gboolean first = g_strcmp0 (ch, "first") == 0 && c1;
  g_autofree char *pal = NULL;

  if (!layer && pal_model_get_meta (m, "faceapi.model"))
    pal = g_strdup ("face-api's weights, no PAL");
  else if (layer)
    pal = g_strdup_printf ("PAL at %s: %s, %s%s%s, lambda %s", layer, att ? att : "?",
                           ch ? ch : "?", first ? " " : "", first ? c1 : "",
                           lambda ? lambda : "?");
  return g_strdup_printf ("%s, %s\nmaps at %s: %d \u00d7 %d \u00d7 %d%s%s",
                          pal_model_get_arch_name (m), pal ? pal : "no PAL", s->node_name,
                          s->maps->c, s->maps->h, s->maps->w, s->crop_note ? "\n" : "",
                          s->crop_note ? s->crop_note : "");
}

/* @text centred vertically in a white box @height high, for a row's label. */
static PalImage *
row_label (const char *text, int height)
{
  g_autoptr (PalImage) label = pal_render_text (text, PAL_RENDER_TEXT_SIZE, TRUE, NULL);
  g_autoptr (PalImage) space = pal_image_new (1, MAX ((height - label->height) / 2, 1), 3);
  PalImage *parts[2] = { space, label };

  memset (space->data, 255, (gsize) space->height * 3);
  return pal_render_stack (parts, 2, 0);
}

/* The block of one model: its name, its grid of maps (a row label, then
 * constrained, free, all, and Grad-CAM or the prior), a warning when the
 * Grad map is flat, its predictions. */
static PalImage *
model_block (const Side *s, const Options *opt, const float lo[N_MAPS], const float hi[N_MAPS])
{
  static const guint8 warn_rgb[3] = { 190, 20, 20 }, lm_rgb[3] = { 0, 230, 255 };
  const PalAttrMaps *m = s->maps;
  const char *cam_name = pal_model_get_class_name (s->model, s->cam_class);
  double scale = (double) opt->size / MAX (s->in_w, s->in_h);
  int dw = MAX ((int) lrint (s->in_w * scale), 1), dh = MAX ((int) lrint (s->in_h * scale), 1);
  g_autoptr (PalImage) sized = pal_image_resize (s->face, dw, dh);
  g_autoptr (PalImage) face = opt->colour_face ? pal_image_copy (sized) : pal_image_to_gray (sized);
  g_autoptr (PalImage) name = NULL, about = NULL, grid = NULL, warning = NULL, bars = NULL;
  g_autofree char *subtitle = model_subtitle (s);
  g_autofree char *t_first = NULL, *t_rest = NULL, *t_all = NULL, *t_cam = NULL;
  g_autofree char *t_side = NULL, *bars_title = NULL;
  char num[2][16];
  g_autofree const char **labels = NULL;
  PalImage *panels[10], *parts[5];
  const char *titles[10] = { NULL };
  int K = m->n_classes;

  /* column headings over the first row */
  t_first = g_strdup_printf ("constrained\nchannels 1\u2013%d", m->c1);
  t_rest = m->c1 < m->c ? g_strdup_printf ("free\nchannels %d\u2013%d", m->c1 + 1, m->c)
                        : g_strdup ("free\nno channels");
  t_all = g_strdup_printf ("all\nchannels 1\u2013%d", m->c);
  t_cam = g_strdup_printf ("Grad-CAM: %s\n(%s)", cam_name,
                           s->cam_class == s->predicted ? "predicted" : "chosen");
  titles[1] = t_first;
  titles[2] = t_rest;
  titles[3] = t_all;
  titles[4] = t_cam;

  panels[0] = row_label ("Grad", dh);
  panels[5] = row_label ("Grad\u00d7Input", dh);
  for (int j = 0; j < 3; j++)
    {
      panels[1 + j] = map_panel (s, face, side_map (s, GRAD_FIRST + j), lo[GRAD_FIRST + j],
                                 hi[GRAD_FIRST + j], opt, GRAD_FIRST + j, m->flat);
      panels[6 + j] = map_panel (s, face, side_map (s, GI_FIRST + j), lo[GI_FIRST + j],
                                 hi[GI_FIRST + j], opt, GI_FIRST + j, FALSE);
    }
  panels[4] = map_panel (s, face, s->cam, lo[CAM], hi[CAM], opt, CAM, FALSE);

  /* the prior (at the map's size, as the maps) with the landmarks, or the
   * input as it is */
  if (s->prior)
    {
      PalLandmarks lm = s->lm;
      float plo, phi;
      g_autoptr (PalImage) over = NULL, bar = NULL, caption = NULL;

      for (int i = 0; i < PAL_N_LANDMARKS; i++)
        {
          lm.x[i] = (lm.x[i] + 0.5f) * dw / s->in_w - 0.5f;
          lm.y[i] = (lm.y[i] + 0.5f) * dh / s->in_h - 0.5f;
        }
      pal_map_range (s->prior, m->w * m->h, &plo, &phi);
      over = pal_render_overlay (face, s->prior, m->w, m->h, plo, phi, opt->cm,
                                 (float) opt->opacity);
      pal_render_landmarks (over, &lm, lm_rgb, MAX (0.8f, dw / 200.0f));
      bar = pal_render_colorbar (dw, 8, plo, phi, opt->cm);
      t_side = g_strdup_printf ("sigma %s px at 224\nregions: \u2265 %s%% of peak",
                                fmt (num[0], sizeof num[0], "%.3g", opt->sigma),
                                fmt (num[1], sizeof num[1], "%.0f", 100.0 * opt->inside));
      caption = pal_render_text (t_side, PAL_RENDER_SMALL_SIZE, FALSE, NULL);
      parts[0] = over;
      parts[1] = bar;
      parts[2] = caption;
      panels[9] = pal_render_stack (parts, 3, 2);
      titles[9] = "landmark prior\n(PAL's target)";
    }
  else
    {
      panels[9] = pal_image_copy (sized);   /* the input in its own colours */
      titles[9] = "input\n(no landmarks given)";
    }
  grid = pal_render_grid (panels, titles, 10, 5, 8, NULL);
  for (int i = 0; i < 10; i++)
    pal_image_free (panels[i]);

  if (m->flat)
    {
      g_autofree char *w = g_strdup_printf (
        "Warning: the Grad map at '%s' is flat by construction: only global average pooling\n"
        "and linear layers follow it, so |g| is the same at every pixel (Grad\u00d7Input still varies).",
        s->node_name);
      warning = pal_render_text (w, PAL_RENDER_TEXT_SIZE, TRUE, warn_rgb);
    }

  labels = g_new (const char *, K);
  for (int k = 0; k < K; k++)
    labels[k] = pal_model_get_class_name (s->model, k);
  bars_title = g_strdup_printf ("Prediction: %s, %s%%", labels[s->predicted],
                                fmt (num[0], sizeof num[0], "%.1f", 100.0 * m->probs[s->predicted]));
  bars = pal_render_bars (labels, m->probs, K, s->predicted, MAX (2 * dw, 160), bars_title);

  name = pal_render_text (s->name, PAL_RENDER_TITLE_SIZE, TRUE, NULL);
  about = pal_render_text (subtitle, PAL_RENDER_TEXT_SIZE, FALSE, NULL);
  parts[0] = name;
  parts[1] = about;
  parts[2] = grid;
  parts[3] = warning;
  parts[4] = bars;
  return pal_render_stack (parts, 5, 4);
}

/* Colour ranges: each map its own, or with @shared one for every Grad map and
 * one for every Grad*Input map of all models.  Grad-CAM always its own. */
static void
colour_ranges (Side *sides, int n, gboolean shared, float lo[][N_MAPS], float hi[][N_MAPS])
{
  for (int i = 0; i < n; i++)
    for (int k = 0; k < N_MAPS; k++)
      pal_map_range (side_map (&sides[i], k), sides[i].maps->h * sides[i].maps->w,
                     &lo[i][k], &hi[i][k]);
  if (!shared)
    return;
  for (int row = 0; row < 2; row++)
    {
      float a = INFINITY, b = -INFINITY;

      for (int i = 0; i < n; i++)
        for (int k = 3 * row; k < 3 * row + 3; k++)
          {
            a = MIN (a, lo[i][k]);
            b = MAX (b, hi[i][k]);
          }
      for (int i = 0; i < n; i++)
        for (int k = 3 * row; k < 3 * row + 3; k++)
          {
            lo[i][k] = a;
            hi[i][k] = b;
          }
    }
}

/* The whole picture: the title, then the block of each model. */
static PalImage *
draw (Side *sides, int n, const Options *opt, gboolean shared, const char *image_path,
      const char *face_note)
{
  g_autofree char *base = g_filename_display_basename (image_path), *target = NULL, *at = NULL;
  g_autofree char *title = NULL;
  float lo[2][N_MAPS], hi[2][N_MAPS];
  PalImage *blocks[2] = { NULL }, *picture;

  colour_ranges (sides, n, shared, lo, hi);
  for (int i = 0; i < n; i++)
    blocks[i] = model_block (&sides[i], opt, lo[i], hi[i]);

  target = sides[0].target == PAL_TARGET_SUM
           ? g_strdup ("the sum of the logits")
           : g_strdup_printf ("class %s", pal_model_get_class_name (sides[0].model,
                                                                    sides[0].target));
  if (n == 1 || strcmp (sides[0].node_name, sides[1].node_name) == 0)
    at = g_strdup_printf (" at '%s'", sides[0].node_name);
  title = g_strdup_printf ("%s%s%s: attribution of %s%s%s", base, face_note ? ", " : "",
                           face_note ? face_note : "", target, at ? at : "",
                           shared ? ", shared colour scales" : "");
  picture = pal_render_grid (blocks, NULL, n, n, 16, title);
  for (int i = 0; i < n; i++)
    pal_image_free (blocks[i]);
  return picture;
}

static void
print_summary (const Side *s)
{
  static const char *const names[N_MAPS] = {
    "grad, constrained", "grad, free", "grad, all",
    "grad*input, constrained", "grad*input, free", "grad*input, all", "grad-cam",
  };
  const PalAttrMaps *m = s->maps;
  char p[16];

  g_print ("%s: %s %dx%dx%d, predicted %s (%s%%), Grad-CAM of %s\n", s->name, s->node_name,
           m->c, m->h, m->w, pal_model_get_class_name (s->model, s->predicted),
           fmt (p, sizeof p, "%.1f", 100.0 * m->probs[s->predicted]),
           pal_model_get_class_name (s->model, s->cam_class));
  if (!s->prior)
    return;
  g_print ("  %-24s %8s %7s\n", "map", "pearson", "inside");
  for (int k = 0; k < N_MAPS; k++)
    {
      char r[16], in[16];
      g_print ("  %-24s %8s %6s%%\n", names[k], fmt (r, sizeof r, "%+.3f", s->r[k]),
               fmt (in, sizeof in, "%.1f", 100.0 * s->in[k]));
    }
}

int
pal_cmd_attribute (int argc, char **argv)
{
  g_autofree char *model1 = NULL, *model2 = NULL, *lm_path = NULL, *layer = NULL;
  g_autofree char *target = NULL, *gradcam = NULL, *cmap = NULL, *out = NULL;
  g_autofree char *face_note = NULL, *face_lm_name = NULL;
  PalLandmarkMethod face_method = PAL_LANDMARK_METHOD_DLIB;
  gboolean shared = FALSE, colour_face = FALSE;
  int c1 = G_MININT, size = 192, face = G_MININT;
  double opacity = 0.7, sigma = 3.0, inside = 0.2, face_scale = 0.0;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model1, "Model file, or faceapi for face-api's expression network", "M" },
    { "model2", 0, 0, G_OPTION_ARG_FILENAME, &model2, "A second model (or faceapi), drawn beside the first", "M2" },
    { "landmarks", 'l', 0, G_OPTION_ARG_FILENAME, &lm_path, "68 landmarks of the image (.pts or \"x y\" lines): the prior and the agreement numbers", "PTS" },
    { "face", 0, 0, G_OPTION_ARG_INT, &face, "Crop the photo to its face N (default 1, the best; see pal faces) first", "[N]" },
    { "face-landmarks", 0, 0, G_OPTION_ARG_STRING, &face_lm_name, "Landmarks of the --face search: dlib (default) or faceapi", "METHOD" },
    { "face-scale", 0, 0, G_OPTION_ARG_DOUBLE, &face_scale, "Side of the --face crop over the landmarks' bounds (default 1.6; 1.2 for faceapi)", "F" },
    { "layer", 0, 0, G_OPTION_ARG_STRING, &layer, "Node to attribute at (default: each model's PAL layer, else the one it suggests: dense2 for faceapi)", "NODE" },
    { "target", 't', 0, G_OPTION_ARG_STRING, &target, "What the maps explain: sum (of the logits, PAL's target; default) or a class", "sum|CLASS" },
    { "c1", 0, 0, G_OPTION_ARG_INT, &c1, "Channels in the constrained half (default: the model's pal.c1, else half)", "N" },
    { "gradcam", 0, 0, G_OPTION_ARG_STRING, &gradcam, "Class of the Grad-CAM map (default: the predicted one)", "CLASS" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &cmap, "inferno (default), viridis, jet or gray", "NAME" },
    { "shared-scale", 0, 0, G_OPTION_ARG_NONE, &shared, "One colour range for all Grad maps and one for all Grad*Input maps", NULL },
    { "opacity", 0, 0, G_OPTION_ARG_DOUBLE, &opacity, "Opacity of a map at its top value, 0 .. 1 (default 0.7)", "A" },
    { "sigma", 0, 0, G_OPTION_ARG_DOUBLE, &sigma, "Prior sigma, pixels of a 224 input (default 3, the paper's)", "PX" },
    { "inside", 0, 0, G_OPTION_ARG_DOUBLE, &inside, "Landmark regions: where the prior is at least this share of its peak (default 0.2)", "F" },
    { "colour-face", 0, 0, G_OPTION_ARG_NONE, &colour_face, "Draw the maps over the face in colour (default: in grey, so the colours are the map's)", NULL },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Longer side of each panel in pixels (default 192)", "PX" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "PNG file to write", "OUT.png" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("IMAGE - what a model looks at in a face");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) image = NULL, rgb = NULL, picture = NULL;
  Side sides[2] = { { 0 } };
  PalLandmarks lm;
  PalFace found;
  Options opt;
  int n = 0, outside = 0, rc = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Draws, for each model, its attribution maps at one node over the face as the\n"
    "model sees it (resized to its input):\n"
    "  Grad         |dz/dF| summed over the first C1 channels (constrained by PAL),\n"
    "               the other channels (free) and all of them, and Grad-CAM of one\n"
    "               class (the predicted one unless --gradcam);\n"
    "  Grad*Input   |dz/dF| F over the same channels, and the landmark prior.\n"
    "z is the sum of the logits (PAL's target) or the class given by --target; F is\n"
    "the node's output.  Under each map: its colour range and, with landmarks\n"
    "(--landmarks or --face), r, its Pearson correlation with the prior, and\n"
    "'inside', the share of its mass on the landmark regions, both at the map's\n"
    "resolution (where PAL compares).\n"
    "Each map has its own colour range; with --shared-scale the Grad maps of all\n"
    "models (constrained, free, all) share one, and their Grad*Input maps another,\n"
    "so that they compare fairly (Grad-CAM and the prior keep theirs).  The class\n"
    "probabilities are drawn as bars.  With --model2 the two models are drawn side\n"
    "by side (the paper's Fig. 7).  When only global average pooling and linear\n"
    "layers follow the node, the Grad map is flat by construction: a warning says\n"
    "so, on the terminal and in the picture.  The agreement numbers are printed.\n"
    "\n"
    "--model faceapi is face-api's trained expression network (112 x 112 input,\n"
    "the 7 classes), read from $PAL_FACEAPI_DIR or where tools/fetch-face-api puts\n"
    "it; without --layer it is drawn at dense2 (at dense3, its last spatial layer,\n"
    "Grad is flat).  pal init --arch faceapi writes it as a model file.\n"
    "\n"
    "A photo is rarely framed like a face crop: --face finds its faces (face-api's\n"
    "detector, dlib's 68 landmarks or face-api's with --face-landmarks faceapi, as\n"
    "pal faces does), takes face N of pal faces' list (best first) or the best\n"
    "one, and gives each model a square crop about\n"
    "the centre of its landmarks' bounds (black outside the photo): 1.6 times the\n"
    "bounds (as the faces of a face crop dataset), 1.2 for faceapi (face-api's own\n"
    "expression crop, the framing its net was trained on); --face-scale sets one\n"
    "for all.  The finder's landmarks give the prior, unless --landmarks gives the\n"
    "photo's own.\n"
    "Examples:\n"
    "  pal attribute face.jpg --model pal.safetensors --model2 base.safetensors \\\n"
    "      --landmarks face.pts --layer conv7 --out fig7.png\n"
    "  pal attribute photo.jpg --face --model faceapi --out faceapi.png\n");
  argc = join_face_option (argc, argv);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error (argc < 2 ? "an IMAGE is required" : "only one IMAGE, please");
  if (!model1 || !out)
    return usage_error ("--model and --out are required");
  opt.cm = PAL_COLORMAP_INFERNO;
  if (cmap && !parse_colormap (cmap, &opt.cm))
    return usage_error ("--colormap must be inferno, viridis, jet or gray");
  if (c1 != G_MININT && c1 < 0)
    return usage_error ("--c1 must be 0 (half) or more");
  if (!(opacity >= 0.0 && opacity <= 1.0))
    return usage_error ("--opacity must be in 0 .. 1");
  if (!(sigma > 0.0) || !isfinite (sigma))
    return usage_error ("--sigma must be a positive number of pixels");
  if (!(inside > 0.0 && inside <= 1.0))
    return usage_error ("--inside must be in (0, 1]");
  if (size < 32 || size > 1024)
    return usage_error ("--size must be in 32 .. 1024");
  if (face != G_MININT && face < 1)
    return usage_error ("--face must be a face's number, 1 for the best");
  face = MAX (face, 0);   /* 0: no --face */
  if (face_lm_name && !pal_landmark_method_parse (face_lm_name, &face_method))
    return usage_error ("--face-landmarks must be dlib or faceapi");
  if (face_lm_name && face == 0)
    return usage_error ("--face-landmarks goes with --face");
  if (face_scale != 0.0 && !(face_scale >= 0.5 && face_scale <= 4.0))
    return usage_error ("--face-scale must be in 0.5 .. 4");
  opt.layer = layer;
  opt.target = target ? target : "sum";
  opt.gradcam = gradcam;
  opt.c1 = c1 == G_MININT ? -1 : c1;
  opt.opacity = opacity;
  opt.sigma = lm_path || face > 0 ? sigma : 0.0;
  opt.inside = inside;
  opt.size = size;
  opt.colour_face = colour_face;

  image = pal_image_load (argv[1], &error);
  if (!image)
    return fail (error);
  rgb = image->channels == 3 ? pal_image_copy (image) : pal_image_to_rgb (image);
  memset (&lm, 0, sizeof lm);
  if (lm_path)
    {
      if (!pal_landmarks_load (lm_path, &lm, &error))
        return fail (error);
      for (int i = 0; i < PAL_N_LANDMARKS; i++)
        outside += lm.x[i] < -0.5f || lm.y[i] < -0.5f || lm.x[i] > image->width - 0.5f
                   || lm.y[i] > image->height - 0.5f;
    }
  if (face > 0)
    {
      if (!find_face (rgb, face, face_method, &found, &face_note, &error))
        return fail (error);
      if (!lm_path)
        lm = found.lm;
    }

  for (int i = 0; i < (model2 ? 2 : 1) && rc == 0; i++)
    {
      n = i + 1;   /* sides[0 .. n) hold something to clear */
      if (!load_and_run (&sides[i], i == 0 ? model1 : model2, rgb, &lm,
                         face > 0 ? &found.lm : NULL, face_scale, &opt, &error))
        rc = fail (error);
    }
  if (rc == 0)
    {
      picture = draw (sides, n, &opt, shared, argv[1], face_note);
      if (!pal_image_save_png (picture, out, &error))
        rc = fail (error);
    }
  if (rc == 0)
    {
      g_print ("%s: %dx%d, %d model%s\n", out, picture->width, picture->height, n,
               n > 1 ? "s" : "");
      if (face_note)
        g_print ("%s: %s\n", argv[1], face_note);
      for (int i = 0; i < n; i++)
        print_summary (&sides[i]);
      for (int i = 0; i < n; i++)
        if (sides[i].maps->flat)
          g_printerr ("pal attribute: warning: %s: the Grad map at '%s' is flat by "
                      "construction (only global average pooling and linear layers "
                      "follow it)\n", sides[i].name, sides[i].node_name);
      if (outside > 0)
        g_printerr ("pal attribute: warning: %d of the 68 landmarks lie outside the %dx%d "
                    "image (landmarks of another image?)\n", outside, image->width,
                    image->height);
    }

  for (int i = 0; i < n; i++)
    side_clear (&sides[i]);
  pal_render_release_fonts ();
  return rc;
}
