/* pal-core.h: everything of libpalcore */
#pragma once

#include "pal-error.h"
#include "pal-graph.h"
#include "pal-arch.h"
#include "pal-model.h"
#include "pal-model-io.h"
#include "pal-exec.h"
#include "pal-optim.h"
#include "pal-parallel.h"
#include "pal-safetensors.h"
