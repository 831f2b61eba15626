/* pal-inspector.c: the Inspect view's model
 *
 * The main thread owns everything the user sees and chooses.  Every change
 * that needs the network again (image, model, layer, target, Grad-CAM
 * class, C1) marks the slots it touches and schedule() turns each marked
 * slot into a Request: a copy of the inputs (a reference to the image,
 * which is never modified once set, a reference to the model, the
 * settings), stamped with a new generation.  The inspector's one worker
 * thread takes the pending request of a slot (a newer one replaces it
 * before it starts: the older is skipped), computes the seven maps and the
 * probabilities with a workspace it keeps per slot while the model stays
 * the same, and hands the result back through an idle source on the main
 * context of the thread that made the inspector.  There a result whose
 * generation is no longer the one its slot waits for is dropped.
 *
 * The agreement numbers (Pearson with the prior, mass inside the landmark
 * regions) are computed on the main thread from the stored maps, when a
 * result arrives and whenever the landmarks, sigma, noise or the inside
 * threshold change: that is cheap (one prior at the model's input size per
 * slot), so moving a landmark never waits for the network.
 *
 * Threads: the worker touches only its own struct, under its lock, and the
 * requests it takes; the inspector itself is used from the main thread
 * only.  Dispose stops and joins the worker and destroys the deliveries
 * not yet dispatched.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#include "pal-inspector.h"
#include "pal-faces.h"
#include "pal-augment.h"
#include "pal-error.h"
#include "pal-exec.h"
#include "pal-metrics.h"
#include "pal-model-io.h"
#include "pal-synth.h"

#define N_SLOTS PAL_INSPECTOR_N_SLOTS

/* The landmark noise of the prior is drawn from this fixed state, so the
 * same landmarks and settings always give the same prior. */
#define PRIOR_NOISE_SEED G_GUINT64_CONSTANT (0x70a1c0ffee5eed01)

/* The mean shape is placed as `pal synth` places a face at pose scale 1:
 * one face unit (half the jaw's width) is this share of the shorter side,
 * and the face-unit point (0, MEAN_FACE_CY) lands on the image's centre. */
#define MEAN_FACE_UNIT 0.30
#define MEAN_FACE_CY   0.32

/* --- shared image ------------------------------------------------------- */

/* An image shared read-only by the main thread and the worker (atomic
 * reference count; the pixels never change once shared). */
typedef struct {
  PalImage *image;
} SharedImage;

static SharedImage *
shared_image_new (PalImage *image)
{
  SharedImage *s = g_atomic_rc_box_new0 (SharedImage);

  s->image = image;
  return s;
}

static SharedImage *
shared_image_ref (SharedImage *s)
{
  return g_atomic_rc_box_acquire (s);
}

static void
shared_image_clear (gpointer data)
{
  SharedImage *s = data;

  pal_image_free (s->image);
}

static void
shared_image_unref (SharedImage *s)
{
  g_atomic_rc_box_release_full (s, shared_image_clear);
}

/* --- requests and results ---------------------------------------------- */

typedef struct {
  guint64      generation;
  int          slot;
  PalModel    *model;
  char        *model_name;
  SharedImage *image;
  char        *layer;        /* NULL: the model's last layer with a map */
  int          target;
  int          cam_class;
  int          c1;
} Request;

static void
request_free (Request *req)
{
  pal_model_unref (req->model);
  g_free (req->model_name);
  shared_image_unref (req->image);
  g_free (req->layer);
  g_free (req);
}

/* A result with what the main thread needs to compute the prior. */
typedef struct {
  PalInspectorResult pub;
  int                slot;
  int                in_w, in_h;    /* the model's input */
  PalAttrMaps       *attr;          /* owns pub.maps[0 .. 5] and pub.probs */
} Result;

static void
result_free (Result *res)
{
  PalInspectorResult *pub = &res->pub;

  g_free (pub->model_name);
  g_clear_error (&pub->error);
  g_free (pub->node_name);
  g_free (pub->maps[PAL_MAP_GRADCAM]);
  pal_attr_maps_free (res->attr);
  g_free (res);
}

static Result *
result_new (const Request *req)
{
  Result *res = g_new0 (Result, 1);

  res->slot = req->slot;
  res->pub.generation = req->generation;
  res->pub.model_name = g_strdup (req->model_name);
  res->pub.target = req->target;
  res->pub.cam_class = req->cam_class;
  for (int k = 0; k < PAL_N_MAPS; k++)
    res->pub.r[k] = res->pub.inside[k] = NAN;
  return res;
}

/* --- the worker ---------------------------------------------------------- */

typedef struct {
  GMutex        lock;
  GCond         cond;
  GThread      *thread;
  GMainContext *context;              /* where results go */
  PalInspector *owner;                /* main thread only */
  /* under lock */
  Request      *pending[N_SLOTS];     /* the latest request of a slot, not started */
  guint64       latest[N_SLOTS];      /* the generation each slot waits for; 0: none */
  gboolean      release[N_SLOTS];     /* the slot's model is gone: drop the workspace */
  gboolean      quit;
  GSList       *sources;              /* deliveries attached, not yet dispatched */
  /* the worker thread's own */
  PalWorkspace *ws[N_SLOTS];
  PalModel     *ws_model[N_SLOTS];
} Worker;

typedef struct {
  Worker  *worker;
  GSource *source;
  Result  *result;
} Delivery;

static void pal_inspector_take_result (PalInspector *self, Result *res);

static void
delivery_free (gpointer data)
{
  Delivery *d = data;

  g_clear_pointer (&d->result, result_free);
  g_free (d);
}

/* Main thread. */
static gboolean
delivery_dispatch (gpointer data)
{
  Delivery *d = data;
  Worker *w = d->worker;

  g_mutex_lock (&w->lock);
  w->sources = g_slist_remove (w->sources, d->source);
  g_mutex_unlock (&w->lock);
  g_source_unref (d->source);   /* the list's reference; the context holds its own */
  if (w->owner)
    pal_inspector_take_result (w->owner, g_steal_pointer (&d->result));
  return G_SOURCE_REMOVE;
}

static gboolean
worker_is_stale (Worker *w, const Request *req)
{
  gboolean stale;

  g_mutex_lock (&w->lock);
  stale = w->quit || w->latest[req->slot] != req->generation;
  g_mutex_unlock (&w->lock);
  return stale;
}

/* Worker thread: the result goes to the main context. */
static void
worker_post (Worker *w, Result *res)
{
  Delivery *d = g_new0 (Delivery, 1);
  GSource *source = g_idle_source_new ();

  d->worker = w;
  d->source = source;
  d->result = res;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, delivery_dispatch, d, delivery_free);
  g_source_set_static_name (source, "[pal] inspector result");
  g_mutex_lock (&w->lock);
  if (w->quit)
    g_source_unref (source);   /* frees d with the result */
  else
    {
      w->sources = g_slist_prepend (w->sources, source);   /* takes our reference */
      g_source_attach (source, w->context);
    }
  g_mutex_unlock (&w->lock);
}

/* The workspace of @slot for @model: kept while the model stays the same. */
static PalWorkspace *
worker_workspace (Worker *w, int slot, PalModel *model, GError **error)
{
  if (w->ws[slot] && w->ws_model[slot] == model)
    return w->ws[slot];
  g_clear_pointer (&w->ws[slot], pal_workspace_free);
  g_clear_pointer (&w->ws_model[slot], pal_model_unref);
  w->ws[slot] = pal_workspace_new (model, 1, error);
  if (!w->ws[slot])
    return NULL;
  if (!pal_workspace_set_weights_fixed (w->ws[slot], TRUE, error))
    {
      g_clear_pointer (&w->ws[slot], pal_workspace_free);
      return NULL;
    }
  w->ws_model[slot] = pal_model_ref (model);
  return w->ws[slot];
}

/* Is node @i one the maps can be made at? */
static gboolean
node_has_map (PalGraph *g, int i)
{
  int c, h, w;

  pal_graph_node_shape (g, i, &c, &h, &w);
  return h * w >= 2 && pal_graph_node_op (g, i) != PAL_OP_FLATTEN
         && pal_graph_check_attribution_node (g, i, FALSE, NULL);
}

static char **
model_layers (PalModel *model)
{
  PalGraph *g = pal_model_get_graph (model);
  GPtrArray *names = g_ptr_array_new ();

  for (int i = 0; i < pal_graph_get_n_nodes (g); i++)
    if (node_has_map (g, i))
      g_ptr_array_add (names, g_strdup (pal_graph_node_name (g, i)));
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

/* The node of @req in its model, or an error naming the layer, the model
 * and the layers it has. */
static int
find_node (const Request *req, GError **error)
{
  PalGraph *g = pal_model_get_graph (req->model);
  g_auto (GStrv) layers = NULL;
  g_autofree char *list = NULL;
  int node;

  if (!req->layer)
    {
      for (node = pal_graph_get_n_nodes (g) - 1; node >= 0; node--)
        if (node_has_map (g, node))
          return node;
      g_set_error (error, PAL_ERROR, PAL_ERROR_UNSUPPORTED,
                   _("%s has no layer with a spatial map to attribute at"), req->model_name);
      return -1;
    }
  node = pal_graph_find (g, req->layer);
  if (node >= 0)
    return node;
  layers = model_layers (req->model);
  list = g_strjoinv (", ", layers);
  g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
               _("Layer “%s” is not in model %s (layers with a map: %s)"),
               req->layer, req->model_name, *list ? list : _("none"));
  return -1;
}

/* A core error while computing @req: named after the model. */
static gboolean
model_error (const Request *req, GError **error)
{
  g_prefix_error (error, "%s: ", req->model_name);
  return FALSE;
}

/* The maps of @req into @res.  FALSE without error: superseded meanwhile. */
static gboolean
compute_maps (Worker *w, const Request *req, Result *res, GError **error)
{
  PalInspectorResult *pub = &res->pub;
  PalGraph *g = pal_model_get_graph (req->model);
  int K = pal_model_get_n_classes (req->model);
  g_autoptr (PalImage) face = NULL;
  g_autoptr (PalAttrMaps) attr = NULL;
  g_autofree float *x = NULL;
  g_autofree float *cam = NULL;
  PalWorkspace *ws;
  float mean[3], std[3];
  int node, in_c, in_h, in_w, c1 = req->c1;

  node = find_node (req, error);
  if (node < 0)
    return FALSE;
  if (!pal_graph_check_attribution_node (g, node, FALSE, error))
    return model_error (req, error);
  if (req->target >= K)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   _("Target class %d is not a class of model %s (it has %d classes)"),
                   req->target, req->model_name, K);
      return FALSE;
    }
  if (req->cam_class >= K)
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   _("Grad-CAM class %d is not a class of model %s (it has %d classes)"),
                   req->cam_class, req->model_name, K);
      return FALSE;
    }
  /* the constrained half: the chosen C1, else the one the model was trained with */
  if (c1 < 0)
    {
      const char *ch = pal_model_get_meta (req->model, "pal.channels");
      const char *mc1 = pal_model_get_meta (req->model, "pal.c1");

      c1 = g_strcmp0 (ch, "first") == 0 && mc1 ? (int) g_ascii_strtoll (mc1, NULL, 10) : 0;
      c1 = MAX (c1, 0);
    }

  /* the image as the model sees it (the loader's way, without augmentation) */
  pal_graph_input_shape (g, &in_c, &in_h, &in_w);
  face = pal_augment_apply (req->image->image, NULL, NULL, in_w, in_h);
  if (in_c == 1)
    {
      PalImage *gray = pal_image_to_gray (face);

      pal_image_free (face);
      face = gray;
    }
  x = g_new (float, (gsize) in_c * in_h * in_w);
  pal_model_get_normalisation (req->model, mean, std);
  pal_image_to_tensor (face, x, in_c, in_w, in_h, mean, std);

  ws = worker_workspace (w, req->slot, req->model, error);
  if (!ws)
    return model_error (req, error);
  attr = pal_workspace_attribute (ws, x, 1, node, req->target, c1, error);
  if (!attr)
    return model_error (req, error);
  pub->predicted = 0;
  for (int k = 1; k < K; k++)
    if (attr->probs[k] > attr->probs[pub->predicted])
      pub->predicted = k;
  pub->cam_class = req->cam_class < 0 ? pub->predicted : req->cam_class;
  if (worker_is_stale (w, req))
    return FALSE;
  cam = g_new (float, (gsize) attr->h * attr->w);
  if (!pal_workspace_gradcam (ws, x, 1, node, pub->cam_class, cam, NULL, error))
    return model_error (req, error);

  pub->node_name = g_strdup (pal_graph_node_name (g, node));
  pub->map_w = attr->w;
  pub->map_h = attr->h;
  pub->c1 = attr->c1;
  pub->channels = attr->c;
  pub->maps[PAL_MAP_GRAD_FIRST] = attr->grad_first;
  pub->maps[PAL_MAP_GRAD_REST] = attr->grad_rest;
  pub->maps[PAL_MAP_GRAD_ALL] = attr->grad_all;
  pub->maps[PAL_MAP_GI_FIRST] = attr->gi_first;
  pub->maps[PAL_MAP_GI_REST] = attr->gi_rest;
  pub->maps[PAL_MAP_GI_ALL] = attr->gi_all;
  pub->maps[PAL_MAP_GRADCAM] = g_steal_pointer (&cam);
  pub->probs = attr->probs;
  pub->n_classes = attr->n_classes;
  pub->flat = attr->flat;
  res->in_w = in_w;
  res->in_h = in_h;
  res->attr = g_steal_pointer (&attr);
  return TRUE;
}

/* The result of @req, or NULL when it was superseded while computing. */
static Result *
compute (Worker *w, const Request *req)
{
  Result *res = result_new (req);
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();

  if (!compute_maps (w, req, res, &error))
    {
      result_free (res);
      if (!error)
        return NULL;
      /* an error leaves the other fields empty */
      res = result_new (req);
      res->pub.error = error;
    }
  res->pub.compute_ms = (g_get_monotonic_time () - t0) / 1000.0;
  return res;
}

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;

  for (;;)
    {
      Request *req;
      Result *res;
      int s;

      g_mutex_lock (&w->lock);
      while (!w->quit && !w->pending[0] && !w->pending[1] && !w->release[0] && !w->release[1])
        g_cond_wait (&w->cond, &w->lock);
      if (w->quit)
        {
          g_mutex_unlock (&w->lock);
          break;
        }
      for (s = 0; s < N_SLOTS; s++)
        if (w->release[s])
          {
            w->release[s] = FALSE;
            g_clear_pointer (&w->ws[s], pal_workspace_free);
            g_clear_pointer (&w->ws_model[s], pal_model_unref);
          }
      /* the older request first, so neither slot waits on the other's changes */
      if (w->pending[0] && w->pending[1])
        s = w->pending[1]->generation < w->pending[0]->generation;
      else
        s = w->pending[0] ? 0 : 1;
      req = g_steal_pointer (&w->pending[s]);
      g_mutex_unlock (&w->lock);
      if (!req)
        continue;

      res = compute (w, req);
      if (res && !worker_is_stale (w, req))
        worker_post (w, res);
      else if (res)
        result_free (res);
      request_free (req);
    }

  for (int s = 0; s < N_SLOTS; s++)
    {
      g_clear_pointer (&w->ws[s], pal_workspace_free);
      g_clear_pointer (&w->ws_model[s], pal_model_unref);
    }
  return NULL;
}

static Worker *
worker_new (GMainContext *context, PalInspector *owner)
{
  Worker *w = g_new0 (Worker, 1);

  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->context = g_main_context_ref (context);
  w->owner = owner;
  return w;
}

/* Main thread: @req replaces the slot's pending request. */
static void
worker_push (Worker *w, Request *req)
{
  Request *old;

  g_mutex_lock (&w->lock);
  old = g_steal_pointer (&w->pending[req->slot]);
  w->latest[req->slot] = req->generation;
  w->pending[req->slot] = req;
  if (!w->thread)
    w->thread = g_thread_new ("pal-inspector", worker_main, w);
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  if (old)
    request_free (old);   /* superseded before it started */
}

/* Main thread: nothing more is wanted of @slot; with @release its
 * workspace goes too. */
static void
worker_cancel (Worker *w, int slot, gboolean release)
{
  Request *old;

  g_mutex_lock (&w->lock);
  old = g_steal_pointer (&w->pending[slot]);
  w->latest[slot] = 0;
  if (release && w->thread)
    {
      w->release[slot] = TRUE;
      g_cond_signal (&w->cond);
    }
  g_mutex_unlock (&w->lock);
  if (old)
    request_free (old);
}

/* Main thread: stops and joins the thread, drops what was not delivered. */
static void
worker_free (Worker *w)
{
  GSList *sources;

  g_mutex_lock (&w->lock);
  w->quit = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  if (w->thread)
    g_thread_join (w->thread);

  /* the thread is gone: nothing else touches the list now */
  w->owner = NULL;
  sources = g_steal_pointer (&w->sources);
  for (GSList *l = sources; l; l = l->next)
    {
      g_source_destroy (l->data);
      g_source_unref (l->data);
    }
  g_slist_free (sources);
  for (int s = 0; s < N_SLOTS; s++)
    g_clear_pointer (&w->pending[s], request_free);
  g_main_context_unref (w->context);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

/* --- the inspector ------------------------------------------------------ */

struct _PalInspector
{
  GObject       parent_instance;

  Worker       *worker;

  SharedImage  *image;
  char         *image_path;
  SharedImage  *photo;                     /* the whole photo while cropped, else NULL */
  int           crop[4];                   /* x, y, width, height in the photo */
  PalLandmarks  landmarks;
  gboolean      has_landmarks;
  gboolean      landmarks_modified;

  PalModel     *models[N_SLOTS];
  char         *model_names[N_SLOTS];
  char         *model_paths[N_SLOTS];

  char         *layer;
  int           target;
  int           cam_class;
  int           c1;
  double        sigma;
  double        noise;
  double        inside;

  Result       *results[N_SLOTS];
  gboolean      dirty[N_SLOTS];            /* needs a new request */
  char         *requested_layer[N_SLOTS];  /* the layer of the last request */
  guint64       generation;                /* of the latest request */
  guint64       wanted[N_SLOTS];           /* the generation a slot waits for; 0: none */
  gboolean      busy;
};

G_DEFINE_FINAL_TYPE (PalInspector, pal_inspector, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LAYER,
  PROP_TARGET,
  PROP_CAM_CLASS,
  PROP_C1,
  PROP_SIGMA,
  PROP_NOISE,
  PROP_INSIDE,
  PROP_BUSY,
  N_PROPS
};

enum {
  RESULTS_CHANGED,
  IMAGE_CHANGED,
  LANDMARKS_CHANGED,
  MODELS_CHANGED,
  CROP_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

const char *
pal_map_kind_title (PalMapKind kind)
{
  static const char *const titles[PAL_N_MAPS] = {
    N_("Grad · constrained half"),
    N_("Grad · free half"),
    N_("Grad · all channels"),
    N_("Grad×Input · constrained half"),
    N_("Grad×Input · free half"),
    N_("Grad×Input · all channels"),
    N_("Grad-CAM"),
  };

  g_return_val_if_fail ((int) kind >= 0 && kind < PAL_N_MAPS, NULL);
  return _(titles[kind]);
}

static void
update_busy (PalInspector *self)
{
  gboolean busy = FALSE;

  for (int s = 0; s < N_SLOTS; s++)
    busy = busy || self->wanted[s] != 0;
  if (busy != self->busy)
    {
      self->busy = busy;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }
}

/* The prior of @res's slot and its agreement with each map, or NaN. */
static void
update_agreement (PalInspector *self, Result *res)
{
  PalInspectorResult *pub = &res->pub;
  g_autofree float *prior = NULL;
  guint64 rng = PRIOR_NOISE_SEED;
  int hw = pub->map_w * pub->map_h;

  for (int k = 0; k < PAL_N_MAPS; k++)
    pub->r[k] = pub->inside[k] = NAN;
  if (pub->error || !self->has_landmarks || !self->image || hw < 1)
    return;
  prior = g_new (float, hw);
  pal_prior_make (prior, pub->map_w, pub->map_h, &self->landmarks, self->image->image->width,
                  self->image->image->height, res->in_w, res->in_h, (float) self->sigma,
                  (float) self->noise, &rng);
  for (int k = 0; k < PAL_N_MAPS; k++)
    {
      pub->r[k] = pal_map_pearson (pub->maps[k], prior, hw);
      pub->inside[k] = pal_map_mass_inside (pub->maps[k], prior, hw, self->inside);
    }
}

/* The landmarks or the prior's settings changed: new numbers, same maps. */
static void
refresh_agreement (PalInspector *self)
{
  for (int s = 0; s < N_SLOTS; s++)
    if (self->results[s])
      {
        update_agreement (self, self->results[s]);
        g_signal_emit (self, signals[RESULTS_CHANGED], 0, s);
      }
}

static void
landmarks_changed (PalInspector *self)
{
  g_signal_emit (self, signals[LANDMARKS_CHANGED], 0);
  refresh_agreement (self);
}

static void
pal_inspector_take_result (PalInspector *self, Result *res)
{
  int s = res->slot;

  if (res->pub.generation != self->wanted[s])
    {
      result_free (res);   /* stale: a newer request is on its way */
      return;
    }
  self->wanted[s] = 0;
  g_clear_pointer (&self->results[s], result_free);
  self->results[s] = res;
  update_agreement (self, res);
  update_busy (self);
  g_signal_emit (self, signals[RESULTS_CHANGED], 0, s);
}

/* The layer a request of @slot asks for: the chosen one, else the model's
 * PAL layer, else the layer its metadata "inspect.layer" suggests, else
 * the other model's PAL layer (when this one has it; a baseline trained
 * without PAL is then compared at the same place), else NULL (the model's
 * last layer with a map). */
static const char *
effective_layer (PalInspector *self, int slot)
{
  PalModel *other = self->models[1 - slot];
  const char *layer;

  if (self->layer)
    return self->layer;
  layer = pal_model_get_meta (self->models[slot], "pal.layer");
  if (layer)
    return layer;
  layer = pal_model_get_meta (self->models[slot], "inspect.layer");
  if (layer && pal_graph_find (pal_model_get_graph (self->models[slot]), layer) >= 0)
    return layer;
  layer = other ? pal_model_get_meta (other, "pal.layer") : NULL;
  if (layer && pal_graph_find (pal_model_get_graph (self->models[slot]), layer) >= 0)
    return layer;
  return NULL;
}

/* Empties @slot's result (nothing to compute: no model or no image). */
static void
drop_result (PalInspector *self, int slot, gboolean release)
{
  self->wanted[slot] = 0;
  if (self->worker)
    worker_cancel (self->worker, slot, release);
  g_clear_pointer (&self->requested_layer[slot], g_free);
  if (self->results[slot])
    {
      g_clear_pointer (&self->results[slot], result_free);
      g_signal_emit (self, signals[RESULTS_CHANGED], 0, slot);
    }
}

/* Sends a request for every slot whose inputs changed. */
static void
schedule (PalInspector *self)
{
  guint64 generation = 0;

  if (!self->worker)
    return;   /* disposed */
  for (int s = 0; s < N_SLOTS; s++)
    {
      const char *layer;
      Request *req;

      if (!self->models[s] || !self->image)
        {
          if (self->dirty[s])
            drop_result (self, s, !self->models[s]);
          self->dirty[s] = FALSE;
          continue;
        }
      layer = effective_layer (self, s);
      if (!self->dirty[s] && g_strcmp0 (layer, self->requested_layer[s]) == 0)
        continue;
      if (!generation)
        generation = ++self->generation;

      req = g_new0 (Request, 1);
      req->generation = generation;
      req->slot = s;
      req->model = pal_model_ref (self->models[s]);
      req->model_name = g_strdup (self->model_names[s]);
      req->image = shared_image_ref (self->image);
      req->layer = g_strdup (layer);
      req->target = self->target;
      req->cam_class = self->cam_class;
      req->c1 = self->c1;
      g_free (self->requested_layer[s]);
      self->requested_layer[s] = g_strdup (layer);
      self->dirty[s] = FALSE;
      self->wanted[s] = generation;
      worker_push (self->worker, req);
    }
  update_busy (self);
}

static void
mark_dirty (PalInspector *self)
{
  for (int s = 0; s < N_SLOTS; s++)
    self->dirty[s] = TRUE;
  schedule (self);
}

static void
pal_inspector_dispose (GObject *object)
{
  PalInspector *self = PAL_INSPECTOR (object);

  g_clear_pointer (&self->worker, worker_free);
  for (int s = 0; s < N_SLOTS; s++)
    {
      g_clear_pointer (&self->models[s], pal_model_unref);
      g_clear_pointer (&self->results[s], result_free);
      self->wanted[s] = 0;
    }
  g_clear_pointer (&self->image, shared_image_unref);
  g_clear_pointer (&self->photo, shared_image_unref);

  G_OBJECT_CLASS (pal_inspector_parent_class)->dispose (object);
}

static void
pal_inspector_finalize (GObject *object)
{
  PalInspector *self = PAL_INSPECTOR (object);

  g_free (self->image_path);
  for (int s = 0; s < N_SLOTS; s++)
    {
      g_free (self->model_names[s]);
      g_free (self->model_paths[s]);
      g_free (self->requested_layer[s]);
    }
  g_free (self->layer);

  G_OBJECT_CLASS (pal_inspector_parent_class)->finalize (object);
}

static void
pal_inspector_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PalInspector *self = PAL_INSPECTOR (object);

  switch (prop_id)
    {
    case PROP_LAYER:
      g_value_set_string (value, self->layer);
      break;
    case PROP_TARGET:
      g_value_set_int (value, self->target);
      break;
    case PROP_CAM_CLASS:
      g_value_set_int (value, self->cam_class);
      break;
    case PROP_C1:
      g_value_set_int (value, self->c1);
      break;
    case PROP_SIGMA:
      g_value_set_double (value, self->sigma);
      break;
    case PROP_NOISE:
      g_value_set_double (value, self->noise);
      break;
    case PROP_INSIDE:
      g_value_set_double (value, self->inside);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_inspector_set_property (GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec)
{
  PalInspector *self = PAL_INSPECTOR (object);

  switch (prop_id)
    {
    case PROP_LAYER:
      pal_inspector_set_layer (self, g_value_get_string (value));
      break;
    case PROP_TARGET:
      pal_inspector_set_target (self, g_value_get_int (value));
      break;
    case PROP_CAM_CLASS:
      pal_inspector_set_cam_class (self, g_value_get_int (value));
      break;
    case PROP_C1:
      pal_inspector_set_c1 (self, g_value_get_int (value));
      break;
    case PROP_SIGMA:
      pal_inspector_set_sigma (self, g_value_get_double (value));
      break;
    case PROP_NOISE:
      pal_inspector_set_noise (self, g_value_get_double (value));
      break;
    case PROP_INSIDE:
      pal_inspector_set_inside (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_inspector_class_init (PalInspectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = pal_inspector_dispose;
  object_class->finalize = pal_inspector_finalize;
  object_class->get_property = pal_inspector_get_property;
  object_class->set_property = pal_inspector_set_property;

  properties[PROP_LAYER] =
    g_param_spec_string ("layer", NULL, NULL, NULL, rw);
  properties[PROP_TARGET] =
    g_param_spec_int ("target", NULL, NULL, PAL_TARGET_SUM, G_MAXINT, PAL_TARGET_SUM, rw);
  properties[PROP_CAM_CLASS] =
    g_param_spec_int ("cam-class", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_C1] =
    g_param_spec_int ("c1", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_SIGMA] =
    g_param_spec_double ("sigma", NULL, NULL, 0.01, 1000.0, 3.0, rw);
  properties[PROP_NOISE] =
    g_param_spec_double ("noise", NULL, NULL, 0.0, 1000.0, 0.0, rw);
  properties[PROP_INSIDE] =
    g_param_spec_double ("inside", NULL, NULL, 0.001, 1.0, PAL_AGREEMENT_INSIDE, rw);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[RESULTS_CHANGED] =
    g_signal_new ("results-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  signals[IMAGE_CHANGED] =
    g_signal_new ("image-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[LANDMARKS_CHANGED] =
    g_signal_new ("landmarks-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[MODELS_CHANGED] =
    g_signal_new ("models-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CROP_CHANGED] =
    g_signal_new ("crop-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
pal_inspector_init (PalInspector *self)
{
  g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();

  self->worker = worker_new (context, self);
  self->target = PAL_TARGET_SUM;
  self->cam_class = -1;
  self->c1 = -1;
  self->sigma = 3.0;
  self->noise = 0.0;
  self->inside = PAL_AGREEMENT_INSIDE;
}

PalInspector *
pal_inspector_new (void)
{
  return g_object_new (PAL_TYPE_INSPECTOR, NULL);
}

/* --- the face ------------------------------------------------------------- */

/* A new image (taken), with its landmarks or none. */
static void
set_image (PalInspector *self, PalImage *image, const char *path, const PalLandmarks *lm)
{
  g_clear_pointer (&self->image, shared_image_unref);
  g_clear_pointer (&self->photo, shared_image_unref);   /* a new photo: no crop */
  if (image)
    self->image = shared_image_new (image);
  g_free (self->image_path);
  self->image_path = g_strdup (path);
  if (lm)
    self->landmarks = *lm;
  self->has_landmarks = lm != NULL;
  self->landmarks_modified = FALSE;
  g_signal_emit (self, signals[IMAGE_CHANGED], 0);
  mark_dirty (self);
  landmarks_changed (self);
}

void
pal_inspector_set_image (PalInspector *self, PalImage *image, const char *path)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));

  set_image (self, image, path, NULL);
}

gboolean
pal_inspector_load_image (PalInspector *self, const char *path, GError **landmarks_error,
                          GError **error)
{
  g_autofree char *pts = NULL;
  PalLandmarks lm;
  gboolean has_lm = FALSE;
  PalImage *image;

  g_return_val_if_fail (PAL_IS_INSPECTOR (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  image = pal_image_load (path, error);   /* its errors name the file */
  if (!image)
    return FALSE;
  pts = pal_landmarks_pts_path_for (path);
  if (g_strcmp0 (pts, path) != 0 && g_file_test (pts, G_FILE_TEST_EXISTS))
    has_lm = pal_landmarks_load (pts, &lm, landmarks_error);

  set_image (self, image, path, has_lm ? &lm : NULL);
  return TRUE;
}

const PalImage *
pal_inspector_get_image (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);

  return self->image ? self->image->image : NULL;
}

const char *
pal_inspector_get_image_path (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);

  return self->image_path;
}

const PalLandmarks *
pal_inspector_get_landmarks (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);

  return self->has_landmarks ? &self->landmarks : NULL;
}

gboolean
pal_inspector_load_landmarks (PalInspector *self, const char *path, GError **error)
{
  PalLandmarks lm;

  g_return_val_if_fail (PAL_IS_INSPECTOR (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!pal_landmarks_load (path, &lm, error))   /* its errors name the file and line */
    return FALSE;
  pal_inspector_uncrop (self);   /* the file's points are the photo's */
  self->landmarks = lm;
  self->has_landmarks = TRUE;
  self->landmarks_modified = FALSE;
  landmarks_changed (self);
  return TRUE;
}

void
pal_inspector_set_landmarks (PalInspector *self, const PalLandmarks *lm)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));

  if (lm)
    self->landmarks = *lm;
  self->has_landmarks = lm != NULL;
  self->landmarks_modified = lm != NULL;
  landmarks_changed (self);
}

void
pal_inspector_place_mean_landmarks (PalInspector *self)
{
  const PalImage *image;
  PalLandmarks lm;
  double unit, cx, cy;

  g_return_if_fail (PAL_IS_INSPECTOR (self));

  image = pal_inspector_get_image (self);
  if (!image)
    return;
  unit = MEAN_FACE_UNIT * MIN (image->width, image->height);
  cx = (image->width - 1) / 2.0;
  cy = (image->height - 1) / 2.0;
  pal_synth_template (&lm);
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      lm.x[i] = (float) (cx + unit * lm.x[i]);
      lm.y[i] = (float) (cy + unit * (lm.y[i] - MEAN_FACE_CY));
    }
  pal_inspector_set_landmarks (self, &lm);
}

void
pal_inspector_move_landmark (PalInspector *self, int i, float x, float y)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));
  g_return_if_fail (i >= 0 && i < PAL_N_LANDMARKS);
  g_return_if_fail (isfinite (x) && isfinite (y));

  if (!self->has_landmarks)
    return;
  self->landmarks.x[i] = x;
  self->landmarks.y[i] = y;
  self->landmarks_modified = TRUE;
  landmarks_changed (self);
}

gboolean
pal_inspector_save_landmarks (PalInspector *self, const char *path, GError **error)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!self->has_landmarks)
    {
      g_autofree char *name = g_filename_display_name (path);

      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   _("%s: there are no landmarks to save"), name);
      return FALSE;
    }
  if (self->photo)
    {
      PalLandmarks lm = self->landmarks;

      /* written in the photo's pixels, where the image path points */
      for (int i = 0; i < PAL_N_LANDMARKS; i++)
        {
          lm.x[i] += self->crop[0];
          lm.y[i] += self->crop[1];
        }
      if (!pal_landmarks_save_pts (&lm, path, error))
        return FALSE;
    }
  else if (!pal_landmarks_save_pts (&self->landmarks, path, error))
    return FALSE;
  self->landmarks_modified = FALSE;
  return TRUE;
}

gboolean
pal_inspector_get_landmarks_modified (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), FALSE);

  return self->has_landmarks && self->landmarks_modified;
}

/* --- the crop to the face --------------------------------------------------- */

/* The largest side a crop may have (a square of PAL_IMAGE_MAX_PIXELS). */
#define CROP_MAX_SIDE 16384
/* The smallest: landmarks all in one place still give a picture. */
#define CROP_MIN_SIDE 8

/* Where a crop of @side starting at @o goes along an axis of @size pixels:
 * moved as little as needed to stay inside, or, larger than the axis, to
 * cover all of it. */
static double
place_crop (double o, int side, int size)
{
  if (side <= size)
    return CLAMP (o, 0.0, (double) (size - side));
  return CLAMP (o, (double) (size - side), 0.0);
}

/* The landmarks in the photo's pixels. */
static void
photo_landmarks (PalInspector *self, PalLandmarks *lm)
{
  *lm = self->landmarks;
  if (!self->photo)
    return;
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      lm->x[i] += self->crop[0];
      lm->y[i] += self->crop[1];
    }
}

double
pal_inspector_get_crop_factor (PalInspector *self)
{
  double factor = 0.0;

  g_return_val_if_fail (PAL_IS_INSPECTOR (self), PAL_INSPECTOR_CROP_FACTOR);

  for (int slot = 0; slot < PAL_INSPECTOR_N_SLOTS; slot++)
    if (self->models[slot])
      {
        double f = pal_face_crop_scale (self->models[slot]);

        factor = factor > 0.0 ? MIN (factor, f) : f;
      }
  return factor > 0.0 ? factor : PAL_INSPECTOR_CROP_FACTOR;
}

static int crop_side (PalInspector *self);

gboolean
pal_inspector_crop_to_face (PalInspector *self, GError **error)
{
  const PalImage *photo;
  PalImage *crop;
  PalLandmarks lm;
  float box[4];
  double big, side_d, ox, oy;
  int side, x, y;

  g_return_val_if_fail (PAL_IS_INSPECTOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!self->image || !self->has_landmarks)
    {
      g_set_error_literal (error, PAL_ERROR, PAL_ERROR_INVALID,
                           self->image ? _("There are no landmarks to crop the face around")
                                       : _("There is no image to crop"));
      return FALSE;
    }
  photo = (self->photo ? self->photo : self->image)->image;
  photo_landmarks (self, &lm);
  pal_landmarks_bounds (&lm, box);
  big = MAX (box[2] - box[0], box[3] - box[1]) + 1.0;   /* pixels, not centres */
  side_d = round (pal_inspector_get_crop_factor (self) * big);
  if (!isfinite (side_d) || side_d > CROP_MAX_SIDE
      || !isfinite (box[0]) || !isfinite (box[1]))
    {
      g_set_error (error, PAL_ERROR, PAL_ERROR_INVALID,
                   _("The landmarks are spread too wide to crop the face around them "
                     "(the square would be more than %d pixels wide)"), CROP_MAX_SIDE);
      return FALSE;
    }
  side = MAX ((int) side_d, CROP_MIN_SIDE);
  /* centred on the box: the crop's centre pixel (side - 1) / 2 on the box's */
  ox = round ((box[0] + box[2]) / 2.0 - (side - 1) / 2.0);
  oy = round ((box[1] + box[3]) / 2.0 - (side - 1) / 2.0);
  x = (int) place_crop (ox, side, photo->width);
  y = (int) place_crop (oy, side, photo->height);

  crop = pal_image_crop (photo, x, y, side, side);   /* outside the photo: black */
  if (!crop)
    {
      g_set_error_literal (error, PAL_ERROR, PAL_ERROR_FAILED, _("Could not crop the image"));
      return FALSE;
    }
  if (!self->photo)
    self->photo = g_steal_pointer (&self->image);
  g_clear_pointer (&self->image, shared_image_unref);
  self->image = shared_image_new (crop);
  self->crop[0] = x;
  self->crop[1] = y;
  self->crop[2] = side;
  self->crop[3] = side;
  for (int i = 0; i < PAL_N_LANDMARKS; i++)
    {
      self->landmarks.x[i] = lm.x[i] - x;
      self->landmarks.y[i] = lm.y[i] - y;
    }
  g_signal_emit (self, signals[CROP_CHANGED], 0);
  mark_dirty (self);
  landmarks_changed (self);
  return TRUE;
}

/* The side of the crop pal_inspector_crop_to_face() would make now. */
static int
crop_side (PalInspector *self)
{
  PalLandmarks lm;
  float box[4];

  photo_landmarks (self, &lm);
  pal_landmarks_bounds (&lm, box);
  return MAX ((int) round (pal_inspector_get_crop_factor (self)
                           * (MAX (box[2] - box[0], box[3] - box[1]) + 1.0)), CROP_MIN_SIDE);
}

void
pal_inspector_uncrop (PalInspector *self)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));

  if (!self->photo)
    return;
  photo_landmarks (self, &self->landmarks);
  g_clear_pointer (&self->image, shared_image_unref);
  self->image = g_steal_pointer (&self->photo);
  g_signal_emit (self, signals[CROP_CHANGED], 0);
  mark_dirty (self);
  landmarks_changed (self);
}

gboolean
pal_inspector_get_crop (PalInspector *self, int rect[4])
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), FALSE);

  if (rect && self->photo)
    memcpy (rect, self->crop, sizeof self->crop);
  else if (rect)
    {
      const PalImage *image = pal_inspector_get_image (self);

      rect[0] = rect[1] = 0;
      rect[2] = image ? image->width : 0;
      rect[3] = image ? image->height : 0;
    }
  return self->photo != NULL;
}

float *
pal_inspector_render_prior (PalInspector *self, int width, int height)
{
  const PalImage *image;
  guint64 rng = PRIOR_NOISE_SEED;
  float *prior;

  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);

  image = pal_inspector_get_image (self);
  if (!image || !self->has_landmarks)
    return NULL;
  /* rendered as if @width x @height were the input: sigma and noise scale
   * with the width as they do for a model's input, so this is the prior a
   * model compares with, at another resolution (the same noise draws) */
  prior = g_new (float, (gsize) width * height);
  pal_prior_make (prior, width, height, &self->landmarks, image->width, image->height,
                  width, height, (float) self->sigma, (float) self->noise, &rng);
  return prior;
}

/* --- the models ------------------------------------------------------------ */

static void
set_model (PalInspector *self, int slot, PalModel *model, const char *name, const char *path)
{
  PalModel *old = self->models[slot];

  self->models[slot] = model ? pal_model_ref (model) : NULL;
  if (old)
    pal_model_unref (old);
  g_free (self->model_names[slot]);
  self->model_names[slot] = model ? g_strdup (name ? name : pal_model_get_arch_name (model)) : NULL;
  g_free (self->model_paths[slot]);
  self->model_paths[slot] = g_strdup (path);
  self->dirty[slot] = TRUE;
  g_signal_emit (self, signals[MODELS_CHANGED], 0);
  /* the crop frames the face as the models now loaded want it */
  if (self->photo && self->crop[2] != crop_side (self))
    (void) pal_inspector_crop_to_face (self, NULL);
  schedule (self);
}

gboolean
pal_inspector_load_model (PalInspector *self, int slot, const char *path, GError **error)
{
  g_autoptr (PalModel) model = NULL;
  g_autofree char *base = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (PAL_IS_INSPECTOR (self), FALSE);
  g_return_val_if_fail (slot >= 0 && slot < N_SLOTS, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  model = pal_model_load (path, NULL, error);   /* its errors name the file */
  if (!model)
    return FALSE;
  base = g_path_get_basename (path);
  name = g_str_has_suffix (base, ".safetensors")
         ? g_strndup (base, strlen (base) - strlen (".safetensors")) : g_strdup (base);
  set_model (self, slot, model, name, path);
  return TRUE;
}

void
pal_inspector_set_model (PalInspector *self, int slot, PalModel *model, const char *name)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));
  g_return_if_fail (slot >= 0 && slot < N_SLOTS);

  set_model (self, slot, model, name, NULL);
}

void
pal_inspector_clear_model (PalInspector *self, int slot)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));
  g_return_if_fail (slot >= 0 && slot < N_SLOTS);

  if (self->models[slot])
    set_model (self, slot, NULL, NULL, NULL);
}

PalModel *
pal_inspector_get_model (PalInspector *self, int slot)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);
  g_return_val_if_fail (slot >= 0 && slot < N_SLOTS, NULL);

  return self->models[slot];
}

const char *
pal_inspector_get_model_path (PalInspector *self, int slot)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);
  g_return_val_if_fail (slot >= 0 && slot < N_SLOTS, NULL);

  return self->model_paths[slot];
}

static PalModel *
first_model (PalInspector *self)
{
  for (int s = 0; s < N_SLOTS; s++)
    if (self->models[s])
      return self->models[s];
  return NULL;
}

char **
pal_inspector_list_layers (PalInspector *self)
{
  PalModel *model;

  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);

  model = first_model (self);
  return model ? model_layers (model) : g_new0 (char *, 1);
}

char **
pal_inspector_list_classes (PalInspector *self)
{
  PalModel *model;
  char **names;
  int K;

  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);

  model = first_model (self);
  K = model ? pal_model_get_n_classes (model) : 0;
  names = g_new0 (char *, K + 1);
  for (int k = 0; k < K; k++)
    names[k] = g_strdup (pal_model_get_class_name (model, k));
  return names;
}

/* --- the choices ------------------------------------------------------------ */

void
pal_inspector_set_layer (PalInspector *self, const char *layer)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));

  if (layer && !*layer)
    layer = NULL;
  if (g_strcmp0 (layer, self->layer) == 0)
    return;
  g_free (self->layer);
  self->layer = g_strdup (layer);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAYER]);
  mark_dirty (self);
}

const char *
pal_inspector_get_layer (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);

  return self->layer;
}

void
pal_inspector_set_target (PalInspector *self, int target)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));
  g_return_if_fail (target >= PAL_TARGET_SUM);

  if (target == self->target)
    return;
  self->target = target;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET]);
  mark_dirty (self);
}

int
pal_inspector_get_target (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), PAL_TARGET_SUM);

  return self->target;
}

void
pal_inspector_set_cam_class (PalInspector *self, int klass)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));
  g_return_if_fail (klass >= -1);

  if (klass == self->cam_class)
    return;
  self->cam_class = klass;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAM_CLASS]);
  mark_dirty (self);
}

int
pal_inspector_get_cam_class (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), -1);

  return self->cam_class;
}

void
pal_inspector_set_c1 (PalInspector *self, int c1)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));
  g_return_if_fail (c1 >= -1);

  if (c1 == self->c1)
    return;
  self->c1 = c1;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_C1]);
  mark_dirty (self);
}

int
pal_inspector_get_c1 (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), -1);

  return self->c1;
}

void
pal_inspector_set_sigma (PalInspector *self, double sigma)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));
  g_return_if_fail (sigma > 0.0 && isfinite (sigma));

  if (sigma == self->sigma)
    return;
  self->sigma = sigma;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGMA]);
  refresh_agreement (self);
}

double
pal_inspector_get_sigma (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), 0.0);

  return self->sigma;
}

void
pal_inspector_set_noise (PalInspector *self, double noise)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));
  g_return_if_fail (noise >= 0.0 && isfinite (noise));

  if (noise == self->noise)
    return;
  self->noise = noise;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOISE]);
  refresh_agreement (self);
}

double
pal_inspector_get_noise (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), 0.0);

  return self->noise;
}

void
pal_inspector_set_inside (PalInspector *self, double inside)
{
  g_return_if_fail (PAL_IS_INSPECTOR (self));
  g_return_if_fail (inside > 0.0 && inside <= 1.0);

  if (inside == self->inside)
    return;
  self->inside = inside;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INSIDE]);
  refresh_agreement (self);
}

double
pal_inspector_get_inside (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), 0.0);

  return self->inside;
}

/* --- results --------------------------------------------------------------- */

const PalInspectorResult *
pal_inspector_get_result (PalInspector *self, int slot)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), NULL);
  g_return_val_if_fail (slot >= 0 && slot < N_SLOTS, NULL);

  return self->results[slot] ? &self->results[slot]->pub : NULL;
}

gboolean
pal_inspector_get_busy (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), FALSE);

  return self->busy;
}

guint64
pal_inspector_get_generation (PalInspector *self)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (self), 0);

  return self->generation;
}

void
pal_inspector_wait (PalInspector *self, GMainContext *context)
{
  g_autoptr (GMainContext) own = NULL;

  g_return_if_fail (PAL_IS_INSPECTOR (self));

  if (!context)
    context = own = g_main_context_ref_thread_default ();
  g_object_ref (self);
  while (self->busy)
    g_main_context_iteration (context, TRUE);
  g_object_unref (self);
}
