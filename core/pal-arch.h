/* pal-arch.h: architectures, built in and as text
 *
 * The text form describes a graph one node per line:
 *
 *     # comment
 *     input  data     shape=3x96x96
 *     conv   conv1    out=32 k=3 pad=1 act=relu
 *     maxpool pool1   k=2
 *     conv   down     in=pool1 out=64 k=1 stride=2 bias=0
 *     add    block    in=conv2,down act=relu
 *     flatten flat
 *     linear fc       out=7
 *
 * "op name key=value ..."; a node reads the node on the line before unless
 * in= names its input(s).  Keys:
 *   input     shape=CxHxW
 *   conv      out= k=K|KHxKW stride=S|SHxSW pad=P|T,L,B,R groups=G bias=0|1 act=
 *   linear    out= bias=0|1 act=
 *   maxpool, avgpool   k= stride= (default k) pad= count_pad=0|1 (avg, default 1)
 *   gap, flatten, relu (act=relu|leaky:A), dropout p=P,
 *   batchnorm eps= momentum= act=,   add in=A,B act=
 *   act=relu or act=leaky:0.1 (LeakyReLU with slope 0.1)
 * The last node gives the logits.  Every built-in architecture is defined
 * in this form, and a model file stores the text of its architecture.
 */
#pragma once

#include "pal-graph.h"

G_BEGIN_DECLS

/* An architecture with more parameters than this is refused by
 * pal_arch_parse() before anything is allocated for them: 1 GiB of floats
 * (vgg16 at 224 x 224 has 134 M). */
#define PAL_ARCH_MAX_PARAMS (1u << 28)
/* ... and one whose last node gives more logits than this. */
#define PAL_ARCH_MAX_CLASSES 100000

/* Parses @text; errors name the line ("line 4: conv 'conv2': ..."). */
PalGraph   *pal_arch_parse         (const char *text, GError **error);

/* The text of a built-in architecture: "bench-vgg", "vgg16", "resnet18".
 * @input_size (0: the architecture's default) and @n_classes (0: 7) apply
 * to vgg16 and resnet18; bench-vgg is fixed at 3x96x96 and 7 classes. */
char       *pal_arch_builtin_text  (const char *name, int input_size, int n_classes,
                                    GError **error);

/* NULL-terminated list of built-in names (static). */
const char *const *pal_arch_builtin_names (void);

/* The default PAL layer of a built-in architecture (static), or NULL. */
const char *pal_arch_default_layer (const char *name);

G_END_DECLS
