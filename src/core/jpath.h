/* jpath.h — paths into JSON documents: keys separated by dots, array items by [N], an optional
 * leading "$." ("winner", "data.vendor_id", "assignments[0].vendor", "$" for the whole). */
#ifndef BRINK_JPATH_H
#define BRINK_JPATH_H

#include <jansson.h>
#include <stddef.h>

/* 0 when path is well-formed, -1 with a one-line reason. */
int jpath_check(const char *path, char *err, size_t errlen);
/* The value at path in root: *out (NULL when absent). 0, or -1 when the path is malformed. */
int jpath_find(json_t *root, const char *path, json_t **out, char *err, size_t errlen);
/* v as text (strings as they are, numbers in decimal, true/false, arrays and objects as compact
 * JSON) into out: 1, or 0 when v is NULL or null. */
int jpath_scalar(const json_t *v, char *out, size_t outlen);
/* The value at path in the JSON text body, as jpath_scalar writes it: 1 with out filled; 0 when
 * the value is null or absent; -1 when body is not JSON. */
int jpath_get(const char *body, size_t len, const char *path, char *out, size_t outlen);

#endif
