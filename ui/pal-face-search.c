/* pal-face-search.c: faces found in the inspector's photo
 *
 * A search copies the inspector's image on the main thread and runs in a
 * GTask thread: the PalFaceFinder (face-api's detector and expression net,
 * dlib's shape predictor: loading it takes a while) is made by the first
 * search and kept for the next ones.  A finder is used by one thread at a
 * time, so the searches take turns on its lock; one that was cancelled
 * while it waited returns at once.  Each search carries the generation it
 * was started with, and its result is dropped when the generation moved
 * on meanwhile (the image changed, or the search was cancelled or
 * restarted).
 *
 * The finder lives in a small reference-counted holder shared by the
 * object and its searches, so disposing the object while a search runs
 * frees the finder when that search ends.
 */
#include "config.h"


#include "pal-face-search.h"

/* --- the finder, shared with the searches --------------------------------- */

typedef struct {
  GMutex         lock;
  PalFaceFinder *finder;         /* under lock; NULL until a search needs it */
  char          *faceapi_dir;
  char          *dlib_path;
} Finder;

static Finder *
finder_new (const char *faceapi_dir, const char *dlib_path)
{
  Finder *f = g_atomic_rc_box_new0 (Finder);

  g_mutex_init (&f->lock);
  f->faceapi_dir = g_strdup (faceapi_dir);
  f->dlib_path = g_strdup (dlib_path);
  return f;
}

static void
finder_clear (gpointer data)
{
  Finder *f = data;

  g_clear_pointer (&f->finder, pal_face_finder_free);
  g_free (f->faceapi_dir);
  g_free (f->dlib_path);
  g_mutex_clear (&f->lock);
}

static void
finder_unref (Finder *f)
{
  g_atomic_rc_box_release_full (f, finder_clear);
}

/* --- one search -------------------------------------------------------------- */

typedef struct {
  Finder   *finder;
  PalImage *image;        /* a copy: the inspector may drop its own */
  guint64   generation;
  PalFace  *faces;        /* the result */
  int       n_faces;
} Job;

static void
job_free (Job *job)
{
  finder_unref (job->finder);
  pal_image_free (job->image);
  g_free (job->faces);
  g_free (job);
}

/* A GTask thread. */
static void
search_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  Finder *f = job->finder;
  GError *error = NULL;

  g_mutex_lock (&f->lock);
  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      g_mutex_unlock (&f->lock);
      g_task_return_error (task, error);
      return;
    }
  if (!f->finder)
    f->finder = pal_face_finder_new (f->faceapi_dir, f->dlib_path, PAL_LANDMARK_METHOD_DLIB,
                                     &error);
  if (f->finder)
    job->faces = pal_face_finder_run (f->finder, job->image, 0.0f, TRUE, &job->n_faces, &error);
  g_mutex_unlock (&f->lock);

  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* --- the object ---------------------------------------------------------------- */

struct _PalFaceSearch
{
  GObject             parent_instance;

  PalInspector       *inspector;
  Finder             *finder;
  GCancellable       *cancellable;   /* of the running search */
  guint64             generation;    /* of the search the results should come from */
  gboolean            automatic;

  PalFaceSearchState  state;
  PalFace            *faces;
  int                 n_faces;
  GError             *error;
  int                 chosen;
};

G_DEFINE_FINAL_TYPE (PalFaceSearch, pal_face_search, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_INSPECTOR,
  PROP_FACEAPI_DIR,
  PROP_DLIB_PATH,
  PROP_AUTOMATIC,
  PROP_STATE,
  PROP_CHOSEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_chosen (PalFaceSearch *self, int chosen)
{
  if (self->chosen == chosen)
    return;
  self->chosen = chosen;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHOSEN]);
}

/* Forgets the faces, the error and the choice; @state is the new state. */
static void
reset (PalFaceSearch *self, PalFaceSearchState state)
{
  g_clear_pointer (&self->faces, g_free);
  self->n_faces = 0;
  g_clear_error (&self->error);
  set_chosen (self, -1);
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

/* Nothing more is wanted of the running search. */
static void
stop (PalFaceSearch *self)
{
  self->generation++;
  if (self->cancellable)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }
}

static void
on_search_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PalFaceSearch *self = PAL_FACE_SEARCH (source);
  GTask *task = G_TASK (result);
  Job *job = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (task, &error) && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (job->generation != self->generation)
    return;   /* stale: the image changed or the search was restarted */
  g_clear_object (&self->cancellable);

  g_clear_pointer (&self->faces, g_free);
  self->n_faces = 0;
  if (error)
    {
      self->error = g_steal_pointer (&error);
      self->state = PAL_FACE_SEARCH_FAILED;
    }
  else
    {
      self->faces = g_steal_pointer (&job->faces);
      self->n_faces = job->n_faces;
      self->state = PAL_FACE_SEARCH_DONE;
    }
  g_object_ref (self);
  /* one face on an image still without landmarks: they go in at once */
  if (self->n_faces == 1 && !pal_inspector_get_landmarks (self->inspector))
    pal_face_search_choose (self, 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_unref (self);
}

void
pal_face_search_start (PalFaceSearch *self)
{
  const PalImage *image;
  g_autoptr (GTask) task = NULL;
  Job *job;

  g_return_if_fail (PAL_IS_FACE_SEARCH (self));

  stop (self);
  image = pal_inspector_get_image (self->inspector);
  if (!image)
    {
      reset (self, PAL_FACE_SEARCH_IDLE);
      return;
    }
  reset (self, PAL_FACE_SEARCH_RUNNING);

  job = g_new0 (Job, 1);
  job->finder = g_atomic_rc_box_acquire (self->finder);
  job->image = pal_image_copy (image);
  job->generation = self->generation;
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, on_search_done, NULL);
  g_task_set_source_tag (task, pal_face_search_start);
  g_task_set_name (task, "[pal] face search");
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, search_thread);
}

void
pal_face_search_cancel (PalFaceSearch *self)
{
  g_return_if_fail (PAL_IS_FACE_SEARCH (self));

  if (self->state != PAL_FACE_SEARCH_RUNNING)
    return;
  stop (self);
  reset (self, PAL_FACE_SEARCH_IDLE);
}

static void
on_image_changed (PalFaceSearch *self)
{
  stop (self);
  reset (self, PAL_FACE_SEARCH_IDLE);
  if (self->automatic && pal_inspector_get_image (self->inspector)
      && !pal_inspector_get_landmarks (self->inspector))
    pal_face_search_start (self);
}

PalFaceSearch *
pal_face_search_new (PalInspector *inspector, const char *faceapi_dir, const char *dlib_path)
{
  g_return_val_if_fail (PAL_IS_INSPECTOR (inspector), NULL);

  return g_object_new (PAL_TYPE_FACE_SEARCH,
                       "inspector", inspector,
                       "faceapi-dir", faceapi_dir,
                       "dlib-path", dlib_path,
                       NULL);
}

PalInspector *
pal_face_search_get_inspector (PalFaceSearch *self)
{
  g_return_val_if_fail (PAL_IS_FACE_SEARCH (self), NULL);

  return self->inspector;
}

void
pal_face_search_set_automatic (PalFaceSearch *self, gboolean automatic)
{
  g_return_if_fail (PAL_IS_FACE_SEARCH (self));

  automatic = !!automatic;
  if (self->automatic == automatic)
    return;
  self->automatic = automatic;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUTOMATIC]);
}

gboolean
pal_face_search_get_automatic (PalFaceSearch *self)
{
  g_return_val_if_fail (PAL_IS_FACE_SEARCH (self), FALSE);

  return self->automatic;
}

PalFaceSearchState
pal_face_search_get_state (PalFaceSearch *self)
{
  g_return_val_if_fail (PAL_IS_FACE_SEARCH (self), PAL_FACE_SEARCH_IDLE);

  return self->state;
}

const PalFace *
pal_face_search_get_faces (PalFaceSearch *self, int *n_faces)
{
  g_return_val_if_fail (PAL_IS_FACE_SEARCH (self), NULL);

  if (n_faces)
    *n_faces = self->n_faces;
  return self->faces;
}

const GError *
pal_face_search_get_error (PalFaceSearch *self)
{
  g_return_val_if_fail (PAL_IS_FACE_SEARCH (self), NULL);

  return self->error;
}

PalLandmarkMethod
pal_face_search_get_method (PalFaceSearch *self)
{
  g_return_val_if_fail (PAL_IS_FACE_SEARCH (self), PAL_LANDMARK_METHOD_DLIB);

  if (self->chosen >= 0)
    return self->faces[self->chosen].method;
  return PAL_LANDMARK_METHOD_DLIB;
}

void
pal_face_search_choose (PalFaceSearch *self, int index)
{
  g_return_if_fail (PAL_IS_FACE_SEARCH (self));
  g_return_if_fail (index >= -1 && index < self->n_faces);

  if (index < 0)
    {
      set_chosen (self, -1);
      return;
    }
  /* chosen before the landmarks go in, so their listeners see it */
  self->chosen = index;
  pal_inspector_set_landmarks (self->inspector, &self->faces[index].lm);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHOSEN]);
}

int
pal_face_search_get_chosen (PalFaceSearch *self)
{
  g_return_val_if_fail (PAL_IS_FACE_SEARCH (self), -1);

  return self->chosen;
}

void
pal_face_search_wait (PalFaceSearch *self, GMainContext *context)
{
  g_autoptr (GMainContext) own = NULL;

  g_return_if_fail (PAL_IS_FACE_SEARCH (self));

  if (!context)
    context = own = g_main_context_ref_thread_default ();
  g_object_ref (self);
  while (self->state == PAL_FACE_SEARCH_RUNNING)
    g_main_context_iteration (context, TRUE);
  g_object_unref (self);
}

/* --- GObject ---------------------------------------------------------------------- */

static void
pal_face_search_constructed (GObject *object)
{
  PalFaceSearch *self = PAL_FACE_SEARCH (object);

  G_OBJECT_CLASS (pal_face_search_parent_class)->constructed (object);

  g_assert (self->inspector != NULL);
  g_signal_connect_object (self->inspector, "image-changed", G_CALLBACK (on_image_changed), self,
                           G_CONNECT_SWAPPED);
}

static void
pal_face_search_dispose (GObject *object)
{
  PalFaceSearch *self = PAL_FACE_SEARCH (object);

  stop (self);
  if (self->inspector)
    g_signal_handlers_disconnect_by_data (self->inspector, self);
  g_clear_object (&self->inspector);

  G_OBJECT_CLASS (pal_face_search_parent_class)->dispose (object);
}

static void
pal_face_search_finalize (GObject *object)
{
  PalFaceSearch *self = PAL_FACE_SEARCH (object);

  g_free (self->faces);
  g_clear_error (&self->error);
  finder_unref (self->finder);

  G_OBJECT_CLASS (pal_face_search_parent_class)->finalize (object);
}

static void
pal_face_search_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PalFaceSearch *self = PAL_FACE_SEARCH (object);

  switch (prop_id)
    {
    case PROP_INSPECTOR:
      g_value_set_object (value, self->inspector);
      break;
    case PROP_FACEAPI_DIR:
      g_value_set_string (value, self->finder->faceapi_dir);
      break;
    case PROP_DLIB_PATH:
      g_value_set_string (value, self->finder->dlib_path);
      break;
    case PROP_AUTOMATIC:
      g_value_set_boolean (value, self->automatic);
      break;
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_CHOSEN:
      g_value_set_int (value, self->chosen);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_face_search_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  PalFaceSearch *self = PAL_FACE_SEARCH (object);

  switch (prop_id)
    {
    case PROP_INSPECTOR:
      self->inspector = g_value_dup_object (value);
      break;
    case PROP_FACEAPI_DIR:
      g_free (self->finder->faceapi_dir);
      self->finder->faceapi_dir = g_value_dup_string (value);
      break;
    case PROP_DLIB_PATH:
      g_free (self->finder->dlib_path);
      self->finder->dlib_path = g_value_dup_string (value);
      break;
    case PROP_AUTOMATIC:
      pal_face_search_set_automatic (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pal_face_search_class_init (PalFaceSearchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->constructed = pal_face_search_constructed;
  object_class->dispose = pal_face_search_dispose;
  object_class->finalize = pal_face_search_finalize;
  object_class->get_property = pal_face_search_get_property;
  object_class->set_property = pal_face_search_set_property;

  properties[PROP_INSPECTOR] =
    g_param_spec_object ("inspector", NULL, NULL, PAL_TYPE_INSPECTOR, construct);
  properties[PROP_FACEAPI_DIR] =
    g_param_spec_string ("faceapi-dir", NULL, NULL, NULL, construct);
  properties[PROP_DLIB_PATH] =
    g_param_spec_string ("dlib-path", NULL, NULL, NULL, construct);
  properties[PROP_AUTOMATIC] =
    g_param_spec_boolean ("automatic", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, PAL_FACE_SEARCH_IDLE, PAL_FACE_SEARCH_FAILED,
                      PAL_FACE_SEARCH_IDLE, ro);
  properties[PROP_CHOSEN] =
    g_param_spec_int ("chosen", NULL, NULL, -1, G_MAXINT, -1, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pal_face_search_init (PalFaceSearch *self)
{
  self->finder = finder_new (NULL, NULL);
  self->automatic = TRUE;
  self->chosen = -1;
}
