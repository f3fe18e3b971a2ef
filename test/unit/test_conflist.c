// SPDX-License-Identifier: Apache-2.0
/* Unit tests: editing a conflist as text. Inserting our entry and removing
 * it again must give back the exact bytes, whatever the layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conflist.h"

#define ENTRY "{\"type\":\"meshcut\",\"capabilities\":{\"cgroupPath\":true}}"

static char *insert(const char *in)
{
	char *out = NULL;
	size_t n;

	assert_int_equal(conflist_insert(in, strlen(in), ENTRY, &out, &n), 0);
	assert_int_equal(strlen(out), n);
	return out;
}

static char *remove_ours(const char *in, int expect)
{
	char *out = NULL;
	size_t n;

	assert_int_equal(conflist_remove(in, strlen(in), &out, &n), expect);
	return out;
}

/* insert then remove gives the original back, byte for byte */
static void round_trip(const char *orig, const char *expect_inserted)
{
	char *ins = insert(orig), *back = remove_ours(ins, 1), *again = insert(ins);

	if (expect_inserted)
		assert_string_equal(ins, expect_inserted);
	assert_string_equal(back, orig);
	assert_string_equal(again, ins); /* idempotent */
	free(ins);
	free(back);
	free(again);
}

static void test_compact(void **state)
{
	(void)state;
	round_trip("{\"name\":\"n\",\"plugins\":[{\"type\":\"flannel\"}]}",
		   "{\"name\":\"n\",\"plugins\":[{\"type\":\"flannel\"}, " ENTRY "]}");
}

static void test_pretty_keeps_indent(void **state)
{
	(void)state;
	round_trip("{\n  \"plugins\": [\n    {\"type\": \"a\"},\n    {\"type\": \"b\"}\n  ],\n  \"name\": \"x\"\n}\n",
		   "{\n  \"plugins\": [\n    {\"type\": \"a\"},\n    {\"type\": \"b\"},\n    " ENTRY "\n  ],\n  \"name\": \"x\"\n}\n");
}

static void test_empty_plugins(void **state)
{
	(void)state;
	round_trip("{\"plugins\": []}", "{\"plugins\": [" ENTRY "]}");
}

static void test_tricky_strings_and_nesting(void **state)
{
	(void)state;
	/* brackets and quotes inside strings, a nested "plugins" key, and a
	 * "type":"meshcut" that is not a plugin entry */
	round_trip("{\"name\":\"a]b\\\"[\",\"x\":{\"plugins\":[1]},\"plugins\":[{\"type\":\"bridge\",\"args\":{\"type\":\"meshcut\"},\"s\":\"}]\"}]}",
		   NULL);
}

static void test_existing_entries_replaced(void **state)
{
	const char *in = "{\"plugins\":[{\"type\":\"meshcut\",\"old\":1},{\"type\":\"calico\"},{\"type\":\"meshcut\"}]}";
	char *out = insert(in), *gone = remove_ours(in, 2);

	(void)state;
	assert_string_equal(out, "{\"plugins\":[{\"type\":\"calico\"}, " ENTRY "]}");
	assert_string_equal(gone, "{\"plugins\":[{\"type\":\"calico\"}]}");
	free(out);
	free(gone);
}

static void test_no_plugins_refused(void **state)
{
	char *out = NULL;
	size_t n;

	(void)state;
	assert_int_equal(conflist_insert("{\"type\":\"bridge\"}", 17, ENTRY, &out, &n), -22);
	assert_int_equal(conflist_insert("[1,2]", 5, ENTRY, &out, &n), -22);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_pretty_keeps_indent),
		cmocka_unit_test(test_empty_plugins),
		cmocka_unit_test(test_tricky_strings_and_nesting),
		cmocka_unit_test(test_existing_entries_replaced),
		cmocka_unit_test(test_no_plugins_refused),
	};

	return cmocka_run_group_tests_name("conflist", tests, NULL, NULL);
}
