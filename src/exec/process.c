/* Child processes for runs: posix_spawn with pipes for stdout, stderr and progress, the child in
 * its own process group, nothing else of the parent's inherited; SIGTERM then SIGKILL to stop it. */
#include "exec/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/timeutil.h"

extern char **environ;

/* Child-side pipe ends are moved at or above this fd, so that no dup2 of the file actions can
 * clobber another one (or be a same-fd dup2, which would leave FD_CLOEXEC set). */
enum { CHILD_FD_FLOOR = 10, PROGRESS_FD_MAX = 255 };

static size_t env_name_len(const char *e)
{
    const char *eq = strchr(e, '=');
    return eq != NULL ? (size_t)(eq - e) : strlen(e);
}

static int env_same_name(const char *a, const char *b)
{
    size_t n = env_name_len(a);
    return n == env_name_len(b) && memcmp(a, b, n) == 0;
}

/* The inherited environment with `extra` merged over it (a later extra entry wins over an earlier
 * one and over the inherited one). The array is malloc'ed; its strings are borrowed. */
static char **env_merge(char *const *extra, char *err, size_t errlen)
{
    size_t n = 0, m = 0, k = 0;
    for (char **e = environ; e != NULL && *e != NULL; e++)
        n++;
    for (char *const *x = extra; x != NULL && *x != NULL; x++) {
        const char *eq = strchr(*x, '=');
        if (eq == NULL || eq == *x) {
            snprintf(err, errlen, "environment entry '%.64s' is not NAME=value", *x);
            return NULL;
        }
        m++;
    }
    char **out = calloc(n + m + 1, sizeof(*out));
    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        int overridden = 0;
        for (size_t j = 0; j < m && !overridden; j++)
            overridden = env_same_name(environ[i], extra[j]);
        if (!overridden)
            out[k++] = environ[i];
    }
    for (size_t i = 0; i < m; i++) {
        int later = 0;
        for (size_t j = i + 1; j < m && !later; j++)
            later = env_same_name(extra[i], extra[j]);
        if (!later)
            out[k++] = extra[i];
    }
    out[k] = NULL;
    return out;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* A pipe whose both ends are close-on-exec, the read end non-blocking and the write end (the
 * child's) numbered at least CHILD_FD_FLOOR. */
static int make_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    if (fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK) != 0)
        goto fail;
    if (fds[1] < CHILD_FD_FLOOR) {
        int moved = fcntl(fds[1], F_DUPFD_CLOEXEC, CHILD_FD_FLOOR);
        if (moved < 0)
            goto fail;
        close(fds[1]);
        fds[1] = moved;
    }
    return 0;
fail:;
    int e = errno;
    close_fd(&fds[0]);
    close_fd(&fds[1]);
    errno = e;
    return -1;
}

int proc_start(const proc_spec_t *spec, proc_t *p, char *err, size_t errlen)
{
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, prog[2] = {-1, -1};
    char **envp = NULL;
    int rc = -1, fa_ok = 0, attr_ok = 0, e = 0;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t mask;
    struct stat st;

    p->pid = -1;
    p->out_fd = p->err_fd = p->progress_fd = -1;
    p->exited = 0;
    p->status = 0;
    p->kill_at_ms = 0;

    if (spec->argv == NULL || spec->argv[0] == NULL || spec->argv[0][0] == '\0') {
        snprintf(err, errlen, "no command to run");
        return -1;
    }
    if (spec->progress_fd != -1 && (spec->progress_fd < 3 || spec->progress_fd > PROGRESS_FD_MAX)) {
        snprintf(err, errlen, "progress fd %d is out of range (3..%d)", spec->progress_fd, PROGRESS_FD_MAX);
        return -1;
    }
    /* Checked here for a clear message; the spawn's chdir still reports a race. */
    if (spec->workdir != NULL) {
        if (stat(spec->workdir, &st) != 0) {
            snprintf(err, errlen, "workdir '%s': %s", spec->workdir, strerror(errno));
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "workdir '%s': not a directory", spec->workdir);
            return -1;
        }
    }
    if ((envp = env_merge(spec->env, err, errlen)) == NULL)
        return -1;
    if (make_pipe(out) != 0 || (!spec->merge_stderr && make_pipe(errp) != 0) ||
        (spec->progress_fd >= 0 && make_pipe(prog) != 0)) {
        snprintf(err, errlen, "cannot create pipes: %s", strerror(errno));
        goto out;
    }

    if ((e = posix_spawn_file_actions_init(&fa)) != 0)
        goto spawn_setup_failed;
    fa_ok = 1;
    /* stdin is /dev/null: a batch command must not read the server's stdin. */
    if ((e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, out[1], 1)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, spec->merge_stderr ? out[1] : errp[1], 2)) != 0)
        goto spawn_setup_failed;
    if (spec->progress_fd >= 0) {
        if ((e = posix_spawn_file_actions_adddup2(&fa, prog[1], spec->progress_fd)) != 0)
            goto spawn_setup_failed;
        /* fds between 3 and the progress fd (an EBADF there is ignored by glibc) */
        for (int fd = 3; fd < spec->progress_fd; fd++)
            if ((e = posix_spawn_file_actions_addclose(&fa, fd)) != 0)
                goto spawn_setup_failed;
    }
    /* Every other inherited fd, CLOEXEC or not: a server holds sockets the child must not keep. */
    if ((e = posix_spawn_file_actions_addclosefrom_np(&fa, spec->progress_fd >= 0 ? spec->progress_fd + 1 : 3)) != 0)
        goto spawn_setup_failed;
    if (spec->workdir != NULL && (e = posix_spawn_file_actions_addchdir_np(&fa, spec->workdir)) != 0)
        goto spawn_setup_failed;

    if ((e = posix_spawnattr_init(&attr)) != 0)
        goto spawn_setup_failed;
    attr_ok = 1;
    /* Own process group (pgid = pid), so that a signal to the group reaches its whole tree; no
     * blocked signals; every signal at its default (ignored ones such as SIGPIPE included). */
    const short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    sigemptyset(&mask);
    if ((e = posix_spawnattr_setflags(&attr, flags)) != 0 || (e = posix_spawnattr_setpgroup(&attr, 0)) != 0 ||
        (e = posix_spawnattr_setsigmask(&attr, &mask)) != 0)
        goto spawn_setup_failed;
    sigfillset(&mask);
    sigdelset(&mask, SIGKILL);
    sigdelset(&mask, SIGSTOP);
    if ((e = posix_spawnattr_setsigdefault(&attr, &mask)) != 0)
        goto spawn_setup_failed;

    /* glibc's posix_spawnp reports a failed chdir or exec (not found, not executable) as its
     * return value; the child never runs then. */
    pid_t pid;
    e = posix_spawnp(&pid, spec->argv[0], &fa, &attr, spec->argv, envp);
    if (e != 0) {
        if (e == ENOENT && strchr(spec->argv[0], '/') == NULL)
            snprintf(err, errlen, "cannot run '%s': command not found in PATH", spec->argv[0]);
        else
            snprintf(err, errlen, "cannot run '%s': %s", spec->argv[0], strerror(e));
        goto out;
    }
    p->pid = pid;
    p->out_fd = out[0];
    out[0] = -1;
    p->err_fd = errp[0];
    errp[0] = -1;
    p->progress_fd = prog[0];
    prog[0] = -1;
    rc = 0;
    goto out;

spawn_setup_failed:
    snprintf(err, errlen, "cannot prepare the spawn: %s", strerror(e));
out:
    if (attr_ok)
        posix_spawnattr_destroy(&attr);
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    close_fd(&out[0]);
    close_fd(&out[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    close_fd(&prog[0]);
    close_fd(&prog[1]);
    free(envp);
    return rc;
}

/* Signals go to the group even after the leader was reaped: children it left behind may still
 * hold the pipes. A pid is not reused while a process group of that id has members, and once the
 * group is empty kill() fails with ESRCH, which is ignored. */
static void signal_tree(const proc_t *p, int sig)
{
    kill(-p->pid, sig);
    /* A leader that moved to another group (setsid) is still ours until reaped. */
    if (!p->exited && getpgid(p->pid) != p->pid)
        kill(p->pid, sig);
}

void proc_terminate(proc_t *p, int64_t grace_ms)
{
    if (p->pid <= 0)
        return;
    signal_tree(p, SIGTERM);
    if (p->kill_at_ms == 0) {
        int64_t at = time_mono_ms() + (grace_ms > 0 ? grace_ms : 0);
        p->kill_at_ms = at != 0 ? at : 1;
    }
}

void proc_check_kill(proc_t *p)
{
    if (p->pid <= 0 || p->kill_at_ms == 0 || time_mono_ms() < p->kill_at_ms)
        return;
    signal_tree(p, SIGKILL);
    p->kill_at_ms = 0;
}

int proc_reap(proc_t *p)
{
    if (p->exited)
        return 1;
    if (p->pid <= 0)
        return 0;
    int st;
    pid_t r;
    do
        r = waitpid(p->pid, &st, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == p->pid) {
        p->exited = 1;
        p->status = st;
        return 1;
    }
    if (r < 0 && errno == ECHILD) { /* reaped elsewhere (SIGCHLD ignored?): the status is lost */
        p->exited = 1;
        p->status = -1;
        return 1;
    }
    return 0;
}

void proc_close(proc_t *p)
{
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    close_fd(&p->progress_fd);
}

void proc_describe_status(int status, char *out, size_t n)
{
    if (status == -1)
        snprintf(out, n, "exit status unknown");
    else if (WIFEXITED(status))
        snprintf(out, n, "exited with code %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    else if (WIFSTOPPED(status))
        snprintf(out, n, "stopped by signal %d (%s)", WSTOPSIG(status), strsignal(WSTOPSIG(status)));
    else
        snprintf(out, n, "unknown wait status 0x%x", (unsigned)status);
}
