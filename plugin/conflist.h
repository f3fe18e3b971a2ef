/* SPDX-License-Identifier: Apache-2.0 */
/* Editing a CNI conflist as text, so that inserting our entry and taking it
 * out again leaves every other byte of the file as the primary CNI wrote
 * it. The file must already have parsed as JSON (cJSON) before these run. */
#ifndef MC_CONFLIST_H
#define MC_CONFLIST_H

#include <stddef.h>

/* Is this plugin entry ours ("type": "meshcut")? */
int conflist_entry_is_ours(const char *text, size_t n);

/* out (malloc'd) = in without any meshcut entry in "plugins". Returns the
 * number removed, or -errno (-EINVAL: no top-level "plugins" array). */
int conflist_remove(const char *in, size_t n, char **out, size_t *out_n);

/* out (malloc'd) = in without any meshcut entry, then entry (one line of
 * JSON) appended as the last element of "plugins". */
int conflist_insert(const char *in, size_t n, const char *entry, char **out, size_t *out_n);

#endif
