/* A SQLite VFS shim for tests, included by one test file: registered as the default VFS around the
 * real one, it counts the reads, writes and fsyncs of databases and their WALs, fails the k-th
 * call of a kind when armed, and counts the bytes written to WALs (the pages transactions write). */
#ifndef SYNCRUN_TESTS_FAULT_VFS_H
#define SYNCRUN_TESTS_FAULT_VFS_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

typedef enum fault_op { FOP_READ, FOP_WRITE, FOP_SYNC, FOP_COUNT } fault_op_t;

static _Atomic int armed;            /* counting and failing only while set */
static _Atomic long seen[FOP_COUNT]; /* calls of each kind since arming */
static _Atomic long fail_at;         /* fail the fail_at-th call of fail_op (1-based) */
static _Atomic int fail_op, fail_rc, fired;

static _Atomic long long wal_written; /* bytes written to WAL files, armed or not */

typedef struct fault_file {
    sqlite3_file base;
    sqlite3_file *real; /* the real VFS's file, allocated right after this struct */
    int counted;        /* the main database or its WAL */
    int wal;
} fault_file_t;

#define FAULT_FILE_SIZE ((sizeof(fault_file_t) + 7) & ~(size_t)7)

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;

static int fault_hit(fault_file_t *f, fault_op_t op)
{
    if (!f->counted || !atomic_load(&armed))
        return 0;
    long n = atomic_fetch_add(&seen[op], 1) + 1;
    if (atomic_load(&fail_op) == (int)op && n == atomic_load(&fail_at)) {
        atomic_store(&fired, 1);
        return 1;
    }
    return 0;
}

static int ff_close(sqlite3_file *p)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xClose(f->real);
}

static int ff_read(sqlite3_file *p, void *buf, int n, sqlite3_int64 off)
{
    fault_file_t *f = (fault_file_t *)p;
    if (fault_hit(f, FOP_READ))
        return atomic_load(&fail_rc);
    return f->real->pMethods->xRead(f->real, buf, n, off);
}

static int ff_write(sqlite3_file *p, const void *buf, int n, sqlite3_int64 off)
{
    fault_file_t *f = (fault_file_t *)p;
    if (fault_hit(f, FOP_WRITE))
        return atomic_load(&fail_rc);
    if (f->wal)
        atomic_fetch_add(&wal_written, n);
    return f->real->pMethods->xWrite(f->real, buf, n, off);
}

static int ff_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xTruncate(f->real, size);
}

static int ff_sync(sqlite3_file *p, int flags)
{
    fault_file_t *f = (fault_file_t *)p;
    if (fault_hit(f, FOP_SYNC))
        return atomic_load(&fail_rc);
    return f->real->pMethods->xSync(f->real, flags);
}

static int ff_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int ff_lock(sqlite3_file *p, int lock)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xLock(f->real, lock);
}

static int ff_unlock(sqlite3_file *p, int lock)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int ff_check_reserved(sqlite3_file *p, int *out)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int ff_file_control(sqlite3_file *p, int op, void *arg)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int ff_sector_size(sqlite3_file *p)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xSectorSize(f->real);
}

static int ff_device_chars(sqlite3_file *p)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int ff_shm_map(sqlite3_file *p, int pg, int pgsz, int extend, void volatile **out)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, out);
}

static int ff_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void ff_shm_barrier(sqlite3_file *p)
{
    fault_file_t *f = (fault_file_t *)p;
    f->real->pMethods->xShmBarrier(f->real);
}

static int ff_shm_unmap(sqlite3_file *p, int del)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

static int ff_fetch(sqlite3_file *p, sqlite3_int64 off, int n, void **out)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xFetch(f->real, off, n, out);
}

static int ff_unfetch(sqlite3_file *p, sqlite3_int64 off, void *ptr)
{
    fault_file_t *f = (fault_file_t *)p;
    return f->real->pMethods->xUnfetch(f->real, off, ptr);
}

static const sqlite3_io_methods fault_io = {
    3,           ff_close,       ff_read,           ff_write,        ff_truncate,    ff_sync,         ff_file_size,
    ff_lock,     ff_unlock,      ff_check_reserved, ff_file_control, ff_sector_size, ff_device_chars, ff_shm_map,
    ff_shm_lock, ff_shm_barrier, ff_shm_unmap,      ff_fetch,        ff_unfetch,
};

static int fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags, int *out_flags)
{
    fault_file_t *f = (fault_file_t *)p;
    f->real = (sqlite3_file *)((char *)p + FAULT_FILE_SIZE);
    f->counted = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0;
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    f->base.pMethods = f->real->pMethods != NULL ? &fault_io : NULL;
    return rc;
}

static inline void fault_vfs_install(void)
{
    if (real_vfs != NULL)
        return;
    real_vfs = sqlite3_vfs_find(NULL);
    assert_non_null(real_vfs);
    assert_true(real_vfs->iVersion >= 2);
    fault_vfs = *real_vfs;
    fault_vfs.zName = "syncrun-fault";
    fault_vfs.szOsFile = (int)FAULT_FILE_SIZE + real_vfs->szOsFile;
    fault_vfs.xOpen = fault_open;
    fault_vfs.pNext = NULL;
    assert_int_equal(sqlite3_vfs_register(&fault_vfs, 1), SQLITE_OK);
}

/* Counts from now on and fails the k-th call of op (k = 0: count only). */
static inline void fault_arm(fault_op_t op, long k, int rc)
{
    for (int i = 0; i < FOP_COUNT; i++)
        atomic_store(&seen[i], 0);
    atomic_store(&fail_op, (int)op);
    atomic_store(&fail_at, k);
    atomic_store(&fail_rc, rc);
    atomic_store(&fired, 0);
    atomic_store(&armed, 1);
}

static inline void fault_disarm(void)
{
    atomic_store(&armed, 0);
}

/* Where these tests keep their databases: tmpfs when there is one. What they check does not
 * depend on real fsyncs (the shim fails them itself), which would only cost seconds. */
static inline const char *fault_vfs_tmpdir(void)
{
    const char *tmp = getenv("TMPDIR");
    if (access("/dev/shm", W_OK) == 0)
        return "/dev/shm";
    return tmp && *tmp ? tmp : "/tmp";
}

/* Calls of op since fault_arm; whether the armed fault was injected. */
static inline long fault_calls(fault_op_t op)
{
    return atomic_load(&seen[op]);
}

static inline int fault_fired(void)
{
    return atomic_load(&fired);
}

/* Bytes written to WAL files (every frame a transaction writes) since the VFS was installed. */
static inline long long fault_wal_bytes(void)
{
    return atomic_load(&wal_written);
}

#endif
