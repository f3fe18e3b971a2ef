// SPDX-License-Identifier: Apache-2.0
/* meshcut: a chained CNI plugin. With CNI_COMMAND set it speaks CNI on
 * stdin/stdout; without, it is a command-line tool (meshcut status). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "install.h"
#include "log.h"
#include "meshcut.h"
#include "version.h"

static const struct {
	enum cni_command cmd;
	int (*fn)(struct mc_ctx *ctx);
} cmds[] = {
	{ CNI_CMD_ADD, cmd_add },     { CNI_CMD_DEL, cmd_del },
	{ CNI_CMD_CHECK, cmd_check }, { CNI_CMD_GC, cmd_gc },
	{ CNI_CMD_STATUS, cmd_status }, { CNI_CMD_VERSION, cmd_version },
};

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} subcmds[] = {
	{ "status", cli_status, "list endpoints from the pinned state [--json] [--bpffs-root DIR]" },
	{ "endpoint", cli_endpoint, "get, set or apply endpoint policies: meshcut endpoint get|set|apply ..." },
	{ "install", cli_install, "put meshcut into the node's CNI chain (binary, bpffs, conflist entry)" },
	{ "uninstall", cli_uninstall, "take meshcut out: conflist entry, binary, every link and pin" },
	{ "agent", cli_agent, "keep the conflist entry in place, remove orphans; uninstall on SIGTERM if asked" },
};

static const char *real_getenv(const char *name)
{
	return getenv(name);
}

static int cni_main(void)
{
	struct mc_ctx ctx;
	char *input = NULL;
	size_t len = 0;
	int ret = -1;

	memset(&ctx, 0, sizeof(ctx));
	mc_log_libbpf();
	if (cni_command_parse(getenv("CNI_COMMAND")) == CNI_CMD_VERSION)
		return cmd_version(&ctx) == 0 ? 0 : 1; /* stdin may be anything */

	if (mc_read_all(STDIN_FILENO, &input, &len, &ctx.err) < 0)
		goto out;
	ctx.root = cJSON_ParseWithLength(input, len);
	if (ctx.root) {
		/* errors from here on speak the config's version */
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx.root, "cniVersion");

		if (cJSON_IsString(v) && cni_version_supported(v->valuestring))
			snprintf(ctx.conf.cni_version, sizeof(ctx.conf.cni_version), "%s", v->valuestring);
	}
	if (mc_env_parse(&ctx.env, real_getenv, &ctx.err) < 0)
		goto out;
	mc_log_context(ctx.env.command_name, ctx.env.container_id, ctx.env.ifname);
	if (!ctx.root) {
		mc_fail(&ctx.err, CNI_ERR_DECODE, "failed to decode network configuration",
			"stdin is not valid JSON");
		goto out;
	}
	if (parse_conf(ctx.root, &ctx.env, &ctx.conf, &ctx.err) < 0) {
		/* parse_conf cleared the version if it was the problem */
		goto out;
	}
	if (mc_log_open(ctx.conf.log_file, ctx.conf.log_level) < 0)
		log_warn("cannot open logFile %s, logging to stderr", ctx.conf.log_file);

	for (size_t i = 0; i < MC_ARRAY_SIZE(cmds); i++)
		if (cmds[i].cmd == ctx.env.command)
			ret = cmds[i].fn(&ctx);
out:
	if (ret < 0) {
		if (!ctx.err.code)
			mc_fail(&ctx.err, CNI_ERR_IO, "internal error", NULL);
		cni_print_error(ctx.conf.cni_version, &ctx.err);
	}
	conf_free(&ctx.conf);
	cJSON_Delete(ctx.root);
	free(input);
	mc_log_close();
	return ret < 0 ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "meshcut %s: chained CNI plugin that shortens service-mesh data paths\n\n"
		   "As a CNI plugin: run by the container runtime with CNI_COMMAND set.\n"
		   "Commands:\n", MC_VERSION);
	for (size_t i = 0; i < MC_ARRAY_SIZE(subcmds); i++)
		fprintf(f, "  %-10s %s\n", subcmds[i].name, subcmds[i].help);
	fprintf(f, "  %-10s %s\n", "version", "print the version");
}

int main(int argc, char **argv)
{
	const char *cmd = getenv("CNI_COMMAND");

	if (cmd && *cmd)
		return cni_main();
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("meshcut %s\n", MC_VERSION);
		return 0;
	}
	for (size_t i = 0; i < MC_ARRAY_SIZE(subcmds); i++)
		if (!strcmp(argv[1], subcmds[i].name))
			return subcmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "meshcut: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
