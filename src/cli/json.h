/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* json-c helpers for the --json outputs (the schema is documented in docs/json.md). */

#include <json-c/json.h>

#include "basic/macro.h"
#include "host/names.h"
#include "host/pci.h"
#include "handoff/step.h"

#define JSON_SCHEMA_VERSION 1

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)

/* A new object with "schema": 1. */
json_object *json_new_document(void);
/* A string, or null for NULL. */
json_object *json_string_or_null(const char *s);
/* {"address","vendor_id","device_id","class","class_name","name","driver"} */
json_object *json_pci_device(const struct pci_device *d, struct pci_names *names);
json_object *json_address_array(struct pci_device *const *devs, size_t n);
/* A planned step: {"index","kind","args","description"}; index 0 is null (a skipped step has no
 * number). NULL when out of memory. */
json_object *json_plan_step(const struct step *s, size_t index);
/* Prints the document with a trailing newline; -EIO on a write error. Bytes that are not UTF-8
 * are printed as U+FFFD (docs/json.md), here and in the stream below. */
int json_print(json_object *doc);

/* Streams a document whose arrays are too big to hold in memory at once (list on a host with
 * thousands of devices): members are printed as they are added, each element formatted by
 * json-c, so the output is byte for byte what json_print() gives for the whole document. */
void json_stream_begin(void);
void json_stream_array_begin(const char *key);
/* Prints the element and drops the reference; NULL is -ENOMEM. */
int json_stream_array_add(json_object *element);
void json_stream_array_end(void);
/* -EIO when anything could not be written. */
int json_stream_end(void);
