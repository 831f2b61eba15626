/* pal-cmd-faces.c: `pal faces`, the faces of photos with their 68 landmarks
 * and expression probabilities (pal-faces.h)
 *
 * One image after another: an image that cannot be read is named on
 * stderr and the others are still processed; the exit status is 1 when
 * any failed.  With --json, stdout carries exactly one JSON object per
 * image, one per line (an unreadable image gives {"image": ..., "error":
 * ...}); everything else goes to stderr.
 */
#include "pal-cli.h"
#include "pal-dlib.h"
#include "pal-faceapi.h"
#include "pal-faces.h"
#include "pal-image.h"
#include "pal-landmarks.h"

#include <float.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

typedef struct {
  PalFaceFinder *finder;
  float          min_score;
  gboolean       json, pts, expression;
} FacesRun;

static void
add_double_member (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, v);
}

static void
print_json (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

static void
json_face (JsonBuilder *b, const PalFace *face)
{
  gboolean dlib = face->method == PAL_LANDMARK_METHOD_DLIB;

  json_builder_begin_object (b);
  add_double_member (b, "score", face->score);
  json_builder_set_member_name (b, "box");
  json_builder_begin_array (b);
  for (int k = 0; k < 4; k++)
    json_builder_add_double_value (b, face->box[k]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "landmarks");
  json_builder_begin_array (b);
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      json_builder_begin_array (b);
      if (dlib)   /* dlib's points are whole pixels */
        {
          json_builder_add_int_value (b, (gint64) face->lm.x[k]);
          json_builder_add_int_value (b, (gint64) face->lm.y[k]);
        }
      else
        {
          json_builder_add_double_value (b, face->lm.x[k]);
          json_builder_add_double_value (b, face->lm.y[k]);
        }
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "landmark_method");
  json_builder_add_string_value (b, pal_landmark_method_name (face->method));
  if (dlib)
    {
      json_builder_set_member_name (b, "dlib_rect");
      json_builder_begin_array (b);
      for (int k = 0; k < 4; k++)
        json_builder_add_int_value (b, face->dlib_rect[k]);
      json_builder_end_array (b);
    }
  if (!isnan (face->expression[0]))
    {
      json_builder_set_member_name (b, "expression");
      json_builder_begin_object (b);
      for (int k = 0; k < PAL_FACE_N_EXPRESSIONS; k++)
        add_double_member (b, pal_expression_classes[k], face->expression[k]);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

static void
print_face_text (int i, const PalFace *face)
{
  gboolean dlib = face->method == PAL_LANDMARK_METHOD_DLIB;

  g_print ("  face %d: score %.3f, box %.1f %.1f %.1f %.1f (x y w h)", i + 1, face->score,
           face->box[0], face->box[1], face->box[2], face->box[3]);
  if (dlib)
    g_print (", dlib rect %d %d %d %d", face->dlib_rect[0], face->dlib_rect[1],
             face->dlib_rect[2], face->dlib_rect[3]);
  g_print ("\n");
  if (!isnan (face->expression[0]))
    {
      int order[PAL_FACE_N_EXPRESSIONS];

      /* most probable first */
      for (int k = 0; k < PAL_FACE_N_EXPRESSIONS; k++)
        order[k] = k;
      for (int k = 1; k < PAL_FACE_N_EXPRESSIONS; k++)
        for (int j = k; j > 0 && face->expression[order[j]] > face->expression[order[j - 1]]; j--)
          {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
          }
      g_print ("    expression:");
      for (int k = 0; k < PAL_FACE_N_EXPRESSIONS; k++)
        g_print ("%s %s %.3f", k ? "," : "", pal_expression_classes[order[k]],
                 face->expression[order[k]]);
      g_print ("\n");
    }
  g_print ("    landmarks (%s, x,y from 0):", pal_landmark_method_name (face->method));
  for (int k = 0; k < PAL_N_LANDMARKS; k++)
    {
      if (k % 17 == 0)
        g_print ("\n     ");
      if (dlib)
        g_print (" %.0f,%.0f", face->lm.x[k], face->lm.y[k]);
      else
        g_print (" %.1f,%.1f", face->lm.x[k], face->lm.y[k]);
    }
  g_print ("\n");
}

/* One image: FALSE (reported) when it cannot be read or searched. */
static gboolean
faces_of_image (FacesRun *run, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PalImage) img = pal_image_load (path, &error);
  g_autofree PalFace *faces = NULL;
  int n = 0;

  if (img)
    faces = pal_face_finder_run (run->finder, img, run->min_score, run->expression, &n, &error);
  if (error)
    {
      g_printerr ("pal faces: %s\n", error->message);
      if (run->json)
        {
          g_autoptr (JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "image");
          json_builder_add_string_value (b, path);
          json_builder_set_member_name (b, "error");
          json_builder_add_string_value (b, error->message);
          json_builder_end_object (b);
          print_json (b);
        }
      return FALSE;
    }

  if (run->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "image");
      json_builder_add_string_value (b, path);
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, img->width);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, img->height);
      json_builder_set_member_name (b, "faces");
      json_builder_begin_array (b);
      for (int i = 0; i < n; i++)
        json_face (b, &faces[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      print_json (b);
    }
  else
    {
      g_print ("%s: %d x %d, %d face%s\n", path, img->width, img->height, n, n == 1 ? "" : "s");
      for (int i = 0; i < n; i++)
        print_face_text (i, &faces[i]);
    }

  if (run->pts)
    {
      g_autofree char *pts = pal_landmarks_pts_path_for (path);

      if (n == 0)
        g_printerr ("pal faces: %s: no face, no .pts written\n", path);
      else if (!pal_landmarks_save_pts (&faces[0].lm, pts, &error))
        {
          g_printerr ("pal faces: %s\n", error->message);
          return FALSE;
        }
      else
        g_printerr ("pal faces: wrote %s: the 68 %s landmarks of the best face (score %.3f)%s\n",
                    pts, pal_landmark_method_name (faces[0].method), faces[0].score,
                    n > 1 ? ", the other faces left out" : "");
    }
  return TRUE;
}

int
pal_cmd_faces (int argc, char **argv)
{
  g_autofree char *method_name = NULL, *faceapi_dir = NULL, *dlib_model = NULL;
  gboolean json = FALSE, pts = FALSE, no_expression = FALSE;
  double min_score = PAL_FACEAPI_SCORE_THRESHOLD;
  int threads = 0, det_size = 0;
  GOptionEntry entries[] = {
    { "landmarks", 'l', 0, G_OPTION_ARG_STRING, &method_name, "dlib (default: dlib's shape predictor) or faceapi (face-api's landmark net)", "METHOD" },
    { "detector-size", 0, 0, G_OPTION_ARG_INT, &det_size, "Side the detector sees each photo at, a multiple of 32 (default 416, face-api's; smaller is faster, finds only larger faces)", "PX" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per image on stdout", NULL },
    { "pts", 0, 0, G_OPTION_ARG_NONE, &pts, "Write the best face's landmarks beside each image (IMAGE with .pts for its extension)", NULL },
    { "min-score", 0, 0, G_OPTION_ARG_DOUBLE, &min_score, "Lowest detector score kept, 0 to 1 (default 0.5, face-api's)", "S" },
    { "no-expression", 0, 0, G_OPTION_ARG_NONE, &no_expression, "Skip the expression network", NULL },
    { "faceapi-dir", 0, 0, G_OPTION_ARG_FILENAME, &faceapi_dir, "face-api's model folder (default: $PAL_FACEAPI_DIR, or where tools/fetch-face-api puts it)", "DIR" },
    { "dlib-model", 0, 0, G_OPTION_ARG_FILENAME, &dlib_model, "dlib's shape predictor (default " PAL_DLIB_DEFAULT_MODEL ")", "FILE" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Compute threads (default: all cores)", "T" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("IMAGE... - faces, 68 landmarks and expressions in photos");
  g_autoptr (GError) error = NULL;
  g_autoptr (PalFaceFinder) finder = NULL;
  PalLandmarkMethod method = PAL_LANDMARK_METHOD_DLIB;
  FacesRun run;
  int n_failed = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Finds the faces of each photo with face-api's TinyFaceDetector, places the 68\n"
    "iBUG landmarks with dlib's shape predictor (Debian's libdlib-data) or face-api's\n"
    "landmark net, and gives face-api's 7 expression probabilities.  Faces are listed\n"
    "best score first; boxes are x y w h in pixels, landmarks 0-based pixels.\n"
    "With --json each image gives one line:\n"
    "  {\"image\": PATH, \"width\": W, \"height\": H, \"faces\": [{\"score\": S,\n"
    "   \"box\": [x, y, w, h], \"landmarks\": [[x, y], ...], \"landmark_method\": \"dlib\",\n"
    "   \"dlib_rect\": [L, T, R, B], \"expression\": {\"neutral\": p, ...}}]}\n"
    "(dlib_rect, the inclusive rectangle given to dlib, only with dlib; an unreadable\n"
    "image gives {\"image\": PATH, \"error\": MESSAGE}).  Examples:\n"
    "  pal faces photo.jpg\n"
    "  pal faces --json --landmarks faceapi *.jpg > faces.jsonl\n"
    "  pal faces --pts face.jpg        (writes face.pts)\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("pal faces: %s (see pal faces --help)\n", error->message);
      return 2;
    }
  if (argc < 2)
    {
      g_printerr ("pal faces: give one or more images (see pal faces --help)\n");
      return 2;
    }
  if (method_name && !pal_landmark_method_parse (method_name, &method))
    {
      g_printerr ("pal faces: unknown landmark method '%s' (dlib or faceapi)\n", method_name);
      return 2;
    }
  if (!(min_score >= 0.0 && min_score < 1.0))
    {
      g_printerr ("pal faces: --min-score must be in [0, 1), not %g\n", min_score);
      return 2;
    }
  if (threads < 0)
    {
      g_printerr ("pal faces: --threads must be 0 (all cores) or more, not %d\n", threads);
      return 2;
    }
  pal_set_threads (threads);

  finder = pal_face_finder_new (faceapi_dir, dlib_model, method, &error);
  if (!finder)
    {
      g_printerr ("pal faces: %s\n", error->message);
      return 1;
    }
  if (!pal_face_finder_set_detector_size (finder, det_size, &error))
    {
      g_printerr ("pal faces: --detector-size: %s\n", error->message);
      return 2;
    }
  /* the core takes 0 for its default: a score of 0 asked for is the smallest above */
  run = (FacesRun) { finder, min_score > 0.0 ? (float) min_score : FLT_MIN, json, pts,
                     !no_expression };
  for (int i = 1; i < argc; i++)
    n_failed += !faces_of_image (&run, argv[i]);
  if (n_failed > 0 && argc > 2)
    g_printerr ("pal faces: %d of %d images failed\n", n_failed, argc - 1);
  return n_failed > 0 ? 1 : 0;
}
