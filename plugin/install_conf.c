// SPDX-License-Identifier: Apache-2.0
/* The CNI config file, for install, uninstall and the agent: our entry
 * appended to the primary conflist (first by name, or named), replacing an
 * older one; a single-plugin .conf becomes a .conflist of the same name
 * (the original is kept as <name>.meshcut-orig, which no runtime loads).
 * Every file is written to a temp file in the same directory and renamed
 * over, with the original's mode; nothing is written when nothing would
 * change. Uninstall takes our entry out by text, so every other byte stays,
 * or puts the original .conf back. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "conflist.h"
#include "install.h"
#include "log.h"
#include "util.h"

#define ORIG_SUFFIX ".meshcut-orig"
#define MAX_CONF (1 << 20)

static bool has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);

	return n > e && !strcmp(name + n - e, ext);
}

static bool is_cni_file(const char *name)
{
	return name[0] != '.' && (has_ext(name, ".conf") || has_ext(name, ".conflist") || has_ext(name, ".json"));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int only_cni(const struct dirent *d)
{
	return is_cni_file(d->d_name);
}

/* The file install works on: the named one, else the first by name (what
 * containerd and CRI-O load). Waits up to o->wait_s for one to appear. */
static int pick_conf(const struct mc_install *o, const char *dir, char *name, size_t n, char *why, size_t wn)
{
	double start = mc_mono_s();

	for (;;) {
		struct dirent **list = NULL;
		int cnt = scandir(dir, &list, only_cni, by_name);

		if (cnt > 0) {
			int found = -1;

			for (int i = 0; i < cnt && found < 0; i++)
				if (!o->conflist[0] || !strcmp(list[i]->d_name, o->conflist))
					found = i;
			if (found >= 0)
				snprintf(name, n, "%s", list[found]->d_name);
			for (int i = 0; i < cnt; i++)
				free(list[i]);
			if (found >= 0) {
				free(list);
				return 0;
			}
		}
		free(list);
		if (mc_mono_s() - start >= o->wait_s) {
			mc_msg(why, wn, "no %s in %s after %d s%s", o->conflist[0] ? o->conflist : "CNI config (.conflist, .conf, .json)",
			       dir, o->wait_s, cnt < 0 ? " (the directory does not exist)" : "");
			return -ETIMEDOUT;
		}
		usleep(200 * 1000);
	}
}

/* Our entry: defaults, the user's fields over them, type and capability
 * forced. One line of JSON (malloc'd). */
static char *entry_json(const struct mc_install *o, char *why, size_t n)
{
	cJSON *user = cJSON_Parse(o->entry), *e, *caps;
	char *out = NULL;

	if (!cJSON_IsObject(user)) {
		mc_msg(why, n, "--entry is not a JSON object");
		cJSON_Delete(user);
		return NULL;
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", "meshcut");
	for (cJSON *it = user->child; it; it = it->next)
		if (strcmp(it->string, "type") != 0 && strcmp(it->string, "capabilities") != 0)
			cJSON_AddItemToObject(e, it->string, cJSON_Duplicate(it, 1));
	caps = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(user, "capabilities"), 1);
	if (!cJSON_IsObject(caps)) {
		cJSON_Delete(caps);
		caps = cJSON_CreateObject();
	}
	cJSON_DeleteItemFromObjectCaseSensitive(caps, "cgroupPath");
	cJSON_AddBoolToObject(caps, "cgroupPath", 1);
	cJSON_AddItemToObject(e, "capabilities", caps);
	out = cJSON_PrintUnformatted(e);
	cJSON_Delete(e);
	cJSON_Delete(user);
	return out;
}

/* X.conf -> X.conflist holding the original plugin, then ours appended as
 * conflist_insert() would, so a later install finds nothing to change. */
static char *convert_conf(const cJSON *conf, const char *entry, size_t *out_n)
{
	cJSON *list = cJSON_CreateObject(), *plugins, *orig = cJSON_Duplicate(conf, 1);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, "cniVersion");
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(conf, "name");
	char *out, *text;

	if (cJSON_IsString(v))
		cJSON_AddStringToObject(list, "cniVersion", v->valuestring);
	if (cJSON_IsString(nm))
		cJSON_AddStringToObject(list, "name", nm->valuestring);
	cJSON_DeleteItemFromObjectCaseSensitive(orig, "cniVersion");
	cJSON_DeleteItemFromObjectCaseSensitive(orig, "name");
	plugins = cJSON_AddArrayToObject(list, "plugins");
	cJSON_AddItemToArray(plugins, orig);
	text = cJSON_Print(list);
	cJSON_Delete(list);
	if (!text || conflist_insert(text, strlen(text), entry, &out, out_n) < 0)
		out = NULL;
	free(text);
	return out;
}

int install_conf(const struct mc_install *o, char *why, size_t n)
{
	char dir[MC_PATH_MAX], name[MC_PATH_MAX], path[2 * MC_PATH_MAX], *buf = NULL, *out = NULL, *entry;
	size_t len, out_n;
	mode_t mode;
	cJSON *doc = NULL;
	int ret;

	if (mc_fmt(dir, "%s%s", o->host_root, o->conf_dir) < 0)
		return mc_msg(why, n, "conf dir path too long"), -ENAMETOOLONG;
	entry = entry_json(o, why, n);
	if (!entry)
		return -EINVAL;
	ret = pick_conf(o, dir, name, sizeof(name), why, n);
	if (ret < 0)
		goto out;
	if ((ret = mc_fmt(path, "%s/%s", dir, name)) < 0) {
		mc_msg(why, n, "%s/%s: path too long", dir, name);
		goto out;
	}
	/* A primary that writes its file in place can be caught halfway: a file
	 * that does not parse gets a second look for up to a second. */
	for (int tries = 0; tries < 5; tries++) {
		if (tries) {
			usleep(200 * 1000);
			cJSON_Delete(doc);
			free(buf);
			buf = NULL;
		}
		ret = mc_read_file(path, &buf, &len, &mode, MAX_CONF);
		if (ret < 0) {
			mc_msg(why, n, "cannot read %s: %s", path, strerror(-ret));
			goto out;
		}
		doc = cJSON_ParseWithLength(buf, len);
		if (cJSON_IsObject(doc) || o->wait_s == 0)
			break;
	}
	if (!cJSON_IsObject(doc)) {
		mc_msg(why, n, "%s is not a JSON object: left as it is", path);
		ret = -EINVAL;
		goto out;
	}
	if (has_ext(name, ".conflist")) {
		ret = conflist_insert(buf, len, entry, &out, &out_n);
		if (ret < 0) {
			mc_msg(why, n, "%s has no \"plugins\" list: left as it is", path);
			goto out;
		}
		if (out_n == len && !memcmp(out, buf, len)) {
			ret = 0; /* already as it should be */
			goto out;
		}
		ret = mc_write_atomic(dir, name, out, out_n, mode);
		if (ret == 0)
			log_info("added meshcut to %s", path);
	} else {
		/* single plugin: X.conflist next to it, then the original aside */
		char list_name[MC_PATH_MAX + 16], orig[MC_PATH_MAX + 32], src[2 * MC_PATH_MAX + 32];
		size_t stem = strlen(name) - 5; /* ".conf" and ".json" alike */

		if (cJSON_GetObjectItemCaseSensitive(doc, "plugins")) {
			mc_msg(why, n, "%s holds a plugin list but is not named .conflist: left as it is", path);
			ret = -EINVAL;
			goto out;
		}
		if (mc_fmt(list_name, "%.*s.conflist", (int)stem, name) < 0 ||
		    mc_fmt(orig, "%s%s", name, ORIG_SUFFIX) < 0 || mc_fmt(src, "%s/%s", dir, orig) < 0) {
			ret = -ENAMETOOLONG;
			goto written;
		}
		out = convert_conf(doc, entry, &out_n);
		ret = out ? mc_write_atomic(dir, list_name, out, out_n, mode) : -ENOMEM;
		if (ret == 0 && rename(path, src) < 0)
			ret = -errno;
		if (ret == 0)
			log_info("converted %s into %s with meshcut (original kept as %s)", path, list_name, orig);
	}
written:
	if (ret < 0)
		mc_msg(why, n, "cannot write into %s: %s", dir, strerror(-ret));
	else
		ret = 1;
out:
	cJSON_Delete(doc);
	free(out);
	free(buf);
	free(entry);
	return ret;
}

bool install_conf_ok(const struct mc_install *o)
{
	char dir[MC_PATH_MAX], name[MC_PATH_MAX], path[2 * MC_PATH_MAX], *buf = NULL;
	struct mc_install quick = *o;
	const cJSON *plugins, *last, *type;
	cJSON *doc;
	size_t len;
	bool ok;

	quick.wait_s = 0;
	if (mc_fmt(dir, "%s%s", o->host_root, o->conf_dir) < 0 ||
	    pick_conf(&quick, dir, name, sizeof(name), path, sizeof(path)) < 0)
		return false;
	if (mc_fmt(path, "%s/%s", dir, name) < 0 || !has_ext(name, ".conflist") || mc_read_file(path, &buf, &len, NULL, MAX_CONF) < 0)
		return false;
	doc = cJSON_ParseWithLength(buf, len);
	plugins = cJSON_GetObjectItemCaseSensitive(doc, "plugins");
	last = cJSON_IsArray(plugins) ? cJSON_GetArrayItem(plugins, cJSON_GetArraySize(plugins) - 1) : NULL;
	type = cJSON_GetObjectItemCaseSensitive(last, "type");
	ok = cJSON_IsString(type) && !strcmp(type->valuestring, "meshcut");
	cJSON_Delete(doc);
	free(buf);
	return ok;
}

int uninstall_conf(const struct mc_install *o, char *why, size_t n)
{
	char dir[MC_PATH_MAX];
	struct dirent **list = NULL;
	int cnt, changed = 0, ret = 0;

	if (mc_fmt(dir, "%s%s", o->host_root, o->conf_dir) < 0)
		return -ENAMETOOLONG;
	cnt = scandir(dir, &list, NULL, by_name);
	if (cnt < 0)
		return errno == ENOENT ? 0 : -errno;
	/* first the converted .conf files: original back, then our list out */
	for (int i = 0; i < cnt; i++) {
		const char *nm = list[i]->d_name;
		char orig[2 * MC_PATH_MAX], conf[2 * MC_PATH_MAX], listp[2 * MC_PATH_MAX + 16];
		size_t l = strlen(nm), sl = strlen(ORIG_SUFFIX);

		if (!has_ext(nm, ORIG_SUFFIX))
			continue;
		if (mc_fmt(orig, "%s/%s", dir, nm) < 0 || mc_fmt(conf, "%s/%.*s", dir, (int)(l - sl), nm) < 0 ||
		    mc_fmt(listp, "%s/%.*s.conflist", dir, (int)(l - sl - 5), nm) < 0)
			continue; /* not a name we wrote */
		if (rename(orig, conf) < 0) {
			ret = -errno;
			mc_msg(why, n, "cannot restore %s: %s", conf, strerror(errno));
			continue;
		}
		unlink(listp);
		log_info("restored %s", conf);
		changed++;
	}
	for (int i = 0; i < cnt; i++) {
		const char *nm = list[i]->d_name;
		char path[2 * MC_PATH_MAX], *buf = NULL, *out;
		size_t len, out_n;
		mode_t mode;
		int r;

		if (!has_ext(nm, ".conflist") || nm[0] == '.')
			continue;
		if (mc_fmt(path, "%s/%s", dir, nm) < 0 || mc_read_file(path, &buf, &len, &mode, MAX_CONF) < 0 || !buf)
			continue; /* gone with its restored .conf */
		r = conflist_remove(buf, len, &out, &out_n);
		if (r > 0) {
			r = mc_write_atomic(dir, nm, out, out_n, mode);
			if (r < 0) {
				ret = r;
				mc_msg(why, n, "cannot rewrite %s: %s", path, strerror(-r));
			} else {
				log_info("removed meshcut from %s", path);
				changed++;
			}
		}
		if (r >= 0)
			free(out);
		free(buf);
	}
	for (int i = 0; i < cnt; i++)
		free(list[i]);
	free(list);
	return ret < 0 ? ret : changed;
}
