// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conflist.h"

#define MAX_PLUGINS 64

struct span {
	size_t start, end; /* [start, end) */
};

struct scan {
	const char *s;
	size_t n, i;
};

static void skip_ws(struct scan *j)
{
	while (j->i < j->n && strchr(" \t\r\n", j->s[j->i]))
		j->i++;
}

/* At '"': past the closing quote. */
static int skip_string(struct scan *j)
{
	for (j->i++; j->i < j->n; j->i++) {
		if (j->s[j->i] == '\\') {
			j->i++;
		} else if (j->s[j->i] == '"') {
			j->i++;
			return 0;
		}
	}
	return -EINVAL;
}

static int skip_value(struct scan *j, int depth);

/* At '{' or '['. Elements of an array are reported when want != NULL. */
static int skip_container(struct scan *j, int depth, struct span *el, int max, int *count)
{
	char close = j->s[j->i] == '{' ? '}' : ']';
	int is_obj = close == '}';

	if (depth > 64)
		return -EINVAL;
	j->i++;
	skip_ws(j);
	if (j->i < j->n && j->s[j->i] == close) {
		j->i++;
		return 0;
	}
	while (j->i < j->n) {
		size_t start;

		if (is_obj) {
			if (j->s[j->i] != '"' || skip_string(j) < 0)
				return -EINVAL;
			skip_ws(j);
			if (j->i >= j->n || j->s[j->i] != ':')
				return -EINVAL;
			j->i++;
			skip_ws(j);
		}
		start = j->i;
		if (skip_value(j, depth + 1) < 0)
			return -EINVAL;
		if (el && count) {
			if (*count >= max)
				return -E2BIG;
			el[*count].start = start;
			el[*count].end = j->i;
			(*count)++;
		}
		skip_ws(j);
		if (j->i >= j->n)
			return -EINVAL;
		if (j->s[j->i] == ',') {
			j->i++;
			skip_ws(j);
			continue;
		}
		if (j->s[j->i] == close) {
			j->i++;
			return 0;
		}
		return -EINVAL;
	}
	return -EINVAL;
}

static int skip_value(struct scan *j, int depth)
{
	skip_ws(j);
	if (j->i >= j->n)
		return -EINVAL;
	if (j->s[j->i] == '"')
		return skip_string(j);
	if (j->s[j->i] == '{' || j->s[j->i] == '[')
		return skip_container(j, depth, NULL, 0, NULL);
	while (j->i < j->n && !strchr(",}] \t\r\n", j->s[j->i]))
		j->i++;
	return 0;
}

/* The top-level "plugins" array: its '[' offset and its elements. */
static int find_plugins(const char *s, size_t n, size_t *open, struct span *el, int *count)
{
	struct scan j = { .s = s, .n = n };

	*count = 0;
	skip_ws(&j);
	if (j.i >= n || s[j.i] != '{')
		return -EINVAL;
	j.i++;
	for (;;) {
		size_t key, key_end;

		skip_ws(&j);
		if (j.i >= n || s[j.i] != '"')
			return -EINVAL;
		key = j.i;
		if (skip_string(&j) < 0)
			return -EINVAL;
		key_end = j.i;
		skip_ws(&j);
		if (j.i >= n || s[j.i] != ':')
			return -EINVAL;
		j.i++;
		skip_ws(&j);
		if (key_end - key == 9 && !strncmp(s + key, "\"plugins\"", 9) && j.i < n && s[j.i] == '[') {
			*open = j.i;
			return skip_container(&j, 1, el, MAX_PLUGINS, count);
		}
		if (skip_value(&j, 1) < 0)
			return -EINVAL;
		skip_ws(&j);
		if (j.i >= n || s[j.i] != ',')
			return -EINVAL; /* end of object: no "plugins" */
		j.i++;
	}
}

int conflist_entry_is_ours(const char *text, size_t n)
{
	cJSON *e = cJSON_ParseWithLength(text, n);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
	int ours = cJSON_IsString(t) && !strcmp(t->valuestring, "meshcut");

	cJSON_Delete(e);
	return ours;
}

static char *splice(const char *in, size_t n, size_t from, size_t to, const char *ins, size_t *out_n)
{
	size_t il = ins ? strlen(ins) : 0;
	char *out = malloc(n - (to - from) + il + 1);

	if (!out)
		return NULL;
	memcpy(out, in, from);
	if (il)
		memcpy(out + from, ins, il);
	memcpy(out + from + il, in + to, n - to);
	*out_n = n - (to - from) + il;
	out[*out_n] = '\0';
	return out;
}

int conflist_remove(const char *in, size_t n, char **out, size_t *out_n)
{
	struct span el[MAX_PLUGINS];
	char *cur = malloc(n + 1), *next;
	size_t cur_n = n, open;
	int count, removed = 0, ret;

	if (!cur)
		return -ENOMEM;
	memcpy(cur, in, n);
	cur[n] = '\0';
	/* one at a time, the last first, re-scanning: spans stay exact */
	for (;;) {
		int k = -1;
		size_t from, to;

		ret = find_plugins(cur, cur_n, &open, el, &count);
		if (ret < 0) {
			free(cur);
			return ret;
		}
		for (int i = count - 1; i >= 0 && k < 0; i--)
			if (conflist_entry_is_ours(cur + el[i].start, el[i].end - el[i].start))
				k = i;
		if (k < 0)
			break;
		/* with the separator before it (or after it, if it is first) */
		if (k > 0) {
			from = el[k - 1].end;
			to = el[k].end;
		} else if (count > 1) {
			from = el[0].start;
			to = el[1].start;
		} else {
			from = open + 1;
			to = el[0].end;
		}
		next = splice(cur, cur_n, from, to, NULL, &cur_n);
		free(cur);
		if (!next)
			return -ENOMEM;
		cur = next;
		removed++;
	}
	*out = cur;
	*out_n = cur_n;
	return removed;
}

int conflist_insert(const char *in, size_t n, const char *entry, char **out, size_t *out_n)
{
	struct span el[MAX_PLUGINS];
	char *base, *ins;
	size_t base_n, open, at, ls;
	int count, ret;

	ret = conflist_remove(in, n, &base, &base_n);
	if (ret < 0)
		return ret;
	ret = find_plugins(base, base_n, &open, el, &count);
	if (ret < 0)
		goto out;
	ins = malloc(strlen(entry) + 256);
	if (!ins) {
		ret = -ENOMEM;
		goto out;
	}
	if (count == 0) {
		at = open + 1;
		strcpy(ins, entry);
	} else {
		/* after the last entry, indented like it when it has a line of its own */
		at = el[count - 1].end;
		ls = el[count - 1].start;
		while (ls > 0 && (base[ls - 1] == ' ' || base[ls - 1] == '\t'))
			ls--;
		if (ls > 0 && base[ls - 1] == '\n' && el[count - 1].start - ls < 200) {
			size_t ind = el[count - 1].start - ls;

			strcpy(ins, ",\n");
			memcpy(ins + 2, base + ls, ind);
			strcpy(ins + 2 + ind, entry);
		} else {
			strcpy(ins, ", ");
			strcat(ins, entry);
		}
	}
	*out = splice(base, base_n, at, at, ins, out_n);
	free(ins);
	ret = *out ? 0 : -ENOMEM;
out:
	free(base);
	return ret;
}
