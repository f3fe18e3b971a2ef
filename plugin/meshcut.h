/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MESHCUT_H
#define MESHCUT_H

#include <cjson/cJSON.h>

#include "cni.h"
#include "conf.h"

/* One CNI invocation. */
struct mc_ctx {
	struct mc_env env;
	struct mc_conf conf;
	cJSON *root; /* stdin document */
	struct mc_err err;
};

/* CNI verbs: 0 on success (output printed), -1 with ctx->err set. */
int cmd_add(struct mc_ctx *ctx);
int cmd_del(struct mc_ctx *ctx);
int cmd_check(struct mc_ctx *ctx);
int cmd_gc(struct mc_ctx *ctx);
int cmd_status(struct mc_ctx *ctx);
int cmd_version(struct mc_ctx *ctx);

/* Command-line subcommands (no CNI_COMMAND): exit status. */
int cli_status(int argc, char **argv);
int cli_endpoint(int argc, char **argv);

#endif
