/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MC_LOG_H
#define MC_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum mc_log_level { MC_LOG_ERROR, MC_LOG_WARN, MC_LOG_INFO, MC_LOG_DEBUG };

/* Until mc_log_open() succeeds, messages go to stderr at level warn. */
int mc_log_level_parse(const char *s, enum mc_log_level *out);
int mc_log_open(const char *path, enum mc_log_level level);
void mc_log_context(const char *cmd, const char *container_id, const char *ifname);
void mc_log_close(void);
void mc_log(enum mc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mc_vlog(enum mc_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* route libbpf's messages through mc_log */
void mc_log_libbpf(void);
/* What libbpf said about a load that failed: the program it names and
 * its most telling line (the verifier log's last line, else its first
 * warning, such as "BPF program load failed: Operation not permitted" or
 * an extern not found in the kernel's BTF). */
struct mc_libbpf_words {
	char program[32];
	char why[200];
	int rank; /* how telling why[] is: a later line replaces it only if higher */
};
/* While set (non-NULL), libbpf's messages are debug only and w collects
 * their words: for a load whose failure some kernels cause and that is
 * handled (a feature turned off). NULL restores the normal levels. */
void mc_log_libbpf_capture(struct mc_libbpf_words *w);

#define log_err(...) mc_log(MC_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) mc_log(MC_LOG_WARN, __VA_ARGS__)
#define log_info(...) mc_log(MC_LOG_INFO, __VA_ARGS__)
#define log_debug(...) mc_log(MC_LOG_DEBUG, __VA_ARGS__)

#endif
