// SPDX-License-Identifier: Apache-2.0
#include "meshcut.h"

int cmd_version(struct mc_ctx *ctx)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "supportedVersions");
	int ret;

	cJSON_AddStringToObject(o, "cniVersion", MC_DEFAULT_CNI_VERSION);
	for (size_t i = 0; i < cni_n_supported_versions; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(cni_supported_versions[i]));
	ret = mc_print_json(o);
	cJSON_Delete(o);
	if (ret < 0)
		return mc_fail(&ctx->err, CNI_ERR_IO, "cannot write result", NULL);
	return 0;
}
