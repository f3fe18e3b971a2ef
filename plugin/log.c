// SPDX-License-Identifier: Apache-2.0
/* Logging: one line per message, written with a single write(2) on an
 * O_APPEND descriptor, so that concurrent plugin processes never interleave
 * inside a line. Never to stdout: stdout belongs to the CNI protocol. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "log.h"
#include "mc_common.h"

static int log_fd = STDERR_FILENO;
static enum mc_log_level log_level = MC_LOG_WARN;
static char log_ctx[256];

static const char *const level_names[] = {
	[MC_LOG_ERROR] = "error",
	[MC_LOG_WARN] = "warn",
	[MC_LOG_INFO] = "info",
	[MC_LOG_DEBUG] = "debug",
};

int mc_log_level_parse(const char *s, enum mc_log_level *out)
{
	for (unsigned int i = 0; i < MC_ARRAY_SIZE(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum mc_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int mc_log_open(const char *path, enum mc_log_level level)
{
	int fd;

	log_level = level;
	if (!path || !*path)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	return 0;
}

void mc_log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

void mc_log_context(const char *cmd, const char *container_id, const char *ifname)
{
	snprintf(log_ctx, sizeof(log_ctx), "cmd=%s%s%s%s%s", cmd ? cmd : "-",
		 container_id ? " container=" : "", container_id ? container_id : "",
		 ifname ? " ifname=" : "", ifname ? ifname : "");
}

void mc_vlog(enum mc_log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int n, m;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ meshcut[%d] %s %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (int)getpid(),
		     level_names[level], log_ctx[0] ? log_ctx : "cmd=-");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	/* one message, one line: libbpf ends its own with \n */
	while (n > 0 && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';
	if (write(log_fd, line, n) < 0) {
		/* nowhere left to report it */
	}
}

void mc_log(enum mc_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mc_vlog(level, fmt, ap);
	va_end(ap);
}

static struct mc_libbpf_words *libbpf_words;

static void words_set(struct mc_libbpf_words *w, const char *line, size_t len, int rank)
{
	if (rank <= w->rank)
		return;
	w->rank = rank;
	while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	snprintf(w->why, sizeof(w->why), "%.*s", (int)len, line);
}

/* Keep the words that say best why a load failed (struct mc_libbpf_words). */
static void words_take(struct mc_libbpf_words *w, const char *msg)
{
	const char *p = strstr(msg, "prog '"), *log, *end, *l;

	if (p && !w->program[0]) {
		p += 6;
		end = strchr(p, '\'');
		if (end)
			snprintf(w->program, sizeof(w->program), "%.*s", (int)(end - p), p);
	}
	log = strstr(msg, "-- BEGIN PROG LOAD LOG --");
	if (log) {
		/* the verifier's last line before the end marker */
		end = strstr(log, "-- END PROG LOAD LOG --");
		if (!end)
			end = log + strlen(log);
		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		/* the last line that says something: not the statistics
		 * ("processed N insns ...", "verification time ...") */
		for (;;) {
			for (l = end; l > log && l[-1] != '\n'; l--)
				;
			if (l <= log || end <= l)
				return;
			if (strncmp(l, "processed ", 10) != 0 && strncmp(l, "verification time", 17) != 0)
				break;
			end = l - 1;
			while (end > log && (end[-1] == '\n' || end[-1] == ' '))
				end--;
		}
		words_set(w, l, (size_t)(end - l), 3);
		return;
	}
	if (strstr(msg, "failed to load object") || strstr(msg, "failed to load BPF skeleton"))
		return; /* says nothing of why */
	words_set(w, strncmp(msg, "libbpf: ", 8) ? msg : msg + 8, strcspn(msg, "\n") -
		  (strncmp(msg, "libbpf: ", 8) ? 0 : 8), 1);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum mc_log_level l = libbpf_words	      ? MC_LOG_DEBUG :
			      level == LIBBPF_WARN ? MC_LOG_WARN :
			      level == LIBBPF_INFO ? MC_LOG_INFO : MC_LOG_DEBUG;
	va_list cp;

	if (libbpf_words && level == LIBBPF_WARN) {
		char *msg = NULL;

		va_copy(cp, ap);
		if (vasprintf(&msg, fmt, cp) >= 0) {
			words_take(libbpf_words, msg);
			free(msg);
		}
		va_end(cp);
	}
	mc_vlog(l, fmt, ap);
	return 0;
}

void mc_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

void mc_log_libbpf_capture(struct mc_libbpf_words *w)
{
	libbpf_words = w;
}
