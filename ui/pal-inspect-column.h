/* pal-inspect-column.h: one model's column of the Inspect page */
#pragma once

#include <adwaita.h>

#include "pal-inspector.h"
#include "pal-render.h"

G_BEGIN_DECLS

#define PAL_TYPE_INSPECT_COLUMN (pal_inspect_column_get_type ())
G_DECLARE_FINAL_TYPE (PalInspectColumn, pal_inspect_column, PAL, INSPECT_COLUMN, GtkWidget)

/* "slot": the inspector's slot this column shows (0: A, 1: B). */
void  pal_inspect_column_set_slot     (PalInspectColumn *self, int slot);
int   pal_inspect_column_get_slot     (PalInspectColumn *self);

/* Shows the slot as @inspector has it: a placeholder when it is empty,
 * the error, or the model's predictions and maps, coloured from
 * @lo[k], @hi[k] (PAL_N_MAPS each; @shared: the Grad and Grad*Input
 * ranges are common to both models). */
void  pal_inspect_column_update       (PalInspectColumn *self, PalInspector *inspector,
                                       const float *lo, const float *hi, gboolean shared);
/* The face under the maps. */
void  pal_inspect_column_set_face     (PalInspectColumn *self, GdkTexture *face);
void  pal_inspect_column_set_style    (PalInspectColumn *self, PalColormap cm, double opacity);
/* The map shown over the big face (-1: none of this column's). */
void  pal_inspect_column_set_selected (PalInspectColumn *self, int kind);

/* While @exporting, the buttons and the selection are not drawn (for a
 * picture of the column). */
void  pal_inspect_column_set_exporting (PalInspectColumn *self, gboolean exporting);

/* Signals:
 *   "map-activated" (int kind)   a map was clicked
 *   "close" ()                   the user closes the model */

G_END_DECLS
