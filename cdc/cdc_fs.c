/*
 * cdc_fs.c: see cdc_fs.h.
 */
#include "cdc_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

binlog_errcode_t cdc_mkdirs(const char *path, unsigned mode, binlog_err_t *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return binlog_err_set(err, BINLOG_E_USAGE, "directory path '%.64s' is %s", path,
				      n ? "too long" : "empty");
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
			return binlog_err_set(err, BINLOG_E_LOCAL_IO,
					      "cannot create directory %s: %s", buf,
					      strerror(errno));
		buf[i] = i < n ? '/' : '\0';
	}
	return BINLOG_OK;
}

binlog_errcode_t cdc_sync_dir(const char *dir, binlog_err_t *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	binlog_errcode_t rc = BINLOG_OK;

	if (fd < 0)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "fsync %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

static binlog_errcode_t write_all(int fd, const uint8_t *p, size_t n, const char *path,
				  binlog_err_t *err)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "write %s: %s", path,
					      strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return BINLOG_OK;
}

binlog_errcode_t cdc_write_atomic(const char *path, const void *data, size_t len, int how,
				  int world_readable, binlog_err_t *err)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 16];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	binlog_errcode_t rc;
	int fd, made = 1;

	if (slash) {
		size_t dl = slash == path ? 1 : (size_t)(slash - path);
		if (dl >= sizeof(dir))
			return binlog_err_set(err, BINLOG_E_USAGE, "%s: path too long", path);
		memcpy(dir, path, dl);
		dir[dl] = 0;
	} else {
		memcpy(dir, ".", 2);
	}
	/* A dot name in the same directory: the rename cannot cross file
	 * systems, and listings that skip dot files never see it. */
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= (int)sizeof(tmp))
		return binlog_err_set(err, BINLOG_E_USAGE, "%s: path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "cannot create a file in %s: %s", dir,
				      strerror(errno));
	if (world_readable)
		(void)fchmod(fd, 0644);
	rc = write_all(fd, data, len, tmp, err);
	if (rc == BINLOG_OK && fsync(fd) != 0)
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "fsync %s: %s", tmp, strerror(errno));
	if (close(fd) != 0 && rc == BINLOG_OK)
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "close %s: %s", tmp, strerror(errno));
	if (rc != BINLOG_OK)
		goto out;
	if (how == CDC_WRITE_EXCLUSIVE) {
		/* link() fails when the name exists, even if it appeared a
		 * moment ago */
		if (link(tmp, path) != 0) {
			rc = errno == EEXIST
				     ? binlog_err_set(err, BINLOG_E_USAGE, "%s exists", path)
				     : binlog_err_set(err, BINLOG_E_LOCAL_IO, "link %s to %s: %s",
						      tmp, path, strerror(errno));
			goto out;
		}
	} else {
		if (rename(tmp, path) != 0) {
			rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "rename %s to %s: %s", tmp,
					    path, strerror(errno));
			goto out;
		}
		made = 0;
	}
	rc = cdc_sync_dir(dir, err);
out:
	if (made)
		unlink(tmp);
	return rc;
}

binlog_errcode_t cdc_read_file(const char *path, size_t max, binlog_buf_t *b, int *missing,
			       binlog_err_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (missing)
		*missing = fd < 0 && errno == ENOENT;
	if (fd < 0)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", path, strerror(errno));
	for (;;) {
		uint8_t *p = binlog_buf_space(b, 65536);
		ssize_t n;
		if (!p) {
			close(fd);
			return binlog_err_set(err, BINLOG_E_NOMEM, "%s: no memory", path);
		}
		n = read(fd, p, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "read %s: %s", path,
					      strerror(errno));
		}
		if (n == 0)
			break;
		binlog_buf_commit(b, (size_t)n);
		got += (size_t)n;
		if (got > max) {
			close(fd);
			return binlog_err_set(err, BINLOG_E_LIMIT, "%s: larger than %zu bytes",
					      path, max);
		}
	}
	close(fd);
	return BINLOG_OK;
}
