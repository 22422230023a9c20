/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Units of time. Durations are uint64_t microseconds everywhere in this program ("usec"). */

#include <stdint.h>

#define NSEC_PER_USEC UINT64_C(1000)
#define NSEC_PER_SEC UINT64_C(1000000000)
#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_DAY (UINT64_C(24) * 3600 * USEC_PER_SEC)
/* A timeout that never expires. */
#define USEC_INFINITY UINT64_MAX
