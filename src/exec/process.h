/* Child processes for runs: spawn a command (argv, no shell) with its stdout, stderr and a
 * progress pipe (an extra fd in the child) connected to pipes the caller polls; stop it with
 * SIGTERM then SIGKILL after a grace period; collect its exit status. Used by the server's runner
 * (many children, one poll loop) and by `syncrun exec` (one child). */
#ifndef SYNCRUN_EXEC_PROCESS_H
#define SYNCRUN_EXEC_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct proc_spec {
    char *const *argv;   /* argv[0] is looked up in the server's PATH when it has no '/' */
    const char *workdir; /* NULL = inherit; a relative argv[0] with a '/' is taken from here */
    char *const *env;    /* "NAME=value" entries over the inherited environment, NULL-terminated, or NULL */
    int progress_fd;     /* the fd number the child sees its progress pipe on (3..255, normally 3), or -1 */
    int merge_stderr;    /* 1: stderr goes to the stdout pipe (one ordered log) */
} proc_spec_t;

typedef struct proc {
    pid_t pid;
    int out_fd;         /* read end of the child's stdout (non-blocking), -1 once at EOF and closed */
    int err_fd;         /* read end of stderr, -1 when merged or closed */
    int progress_fd;    /* read end of the progress pipe, -1 when none or closed */
    int exited;         /* set by proc_reap */
    int status;         /* wait status (WIFEXITED / WIFSIGNALED) when exited */
    int64_t kill_at_ms; /* monotonic deadline for SIGKILL after proc_terminate, 0 = none */
} proc_t;

/* Starts the child. Returns 0, or -1 with the reason in err (the command was not started; a
 * command that is not found or not executable, or a bad workdir, is reported here, not as an exit
 * code 127). The child gets stdin from /dev/null, stdout/stderr/progress on pipes, no other fd of
 * the parent (CLOEXEC or not), its own process group (pgid = pid), an empty signal mask and every
 * signal at its default (glibc's posix_spawn leaves its two internal signals, 32 and 33, ignored).
 * The read ends in *p are non-blocking and close-on-exec; *p owns them (proc_close). */
int proc_start(const proc_spec_t *spec, proc_t *p, char *err, size_t errlen);
/* Sends SIGTERM to the child's process group and arms SIGKILL after grace_ms (a second call
 * signals again but keeps the first deadline). Safe after the child was reaped: what it left in
 * its group is still signalled. */
void proc_terminate(proc_t *p, int64_t grace_ms);
/* Sends SIGKILL to the group when the grace period is over (then disarms); call periodically. */
void proc_check_kill(proc_t *p);
/* Non-blocking waitpid; 1 once the child has exited (status set), else 0. If the child was reaped
 * elsewhere (ECHILD), 1 with status -1. */
int proc_reap(proc_t *p);
/* Closes whatever fds are still open. Does not kill. */
void proc_close(proc_t *p);
/* Human words for a wait status: "exited with code 3", "killed by signal 9 (Killed)"; -1 gives
 * "exit status unknown". */
void proc_describe_status(int status, char *out, size_t n);

#endif
