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
    char *const *argv;   /* argv[0] is looked up in PATH when it has no '/' */
    const char *workdir; /* NULL = inherit */
    char *const *env;    /* extra "NAME=value" entries added to the inherited environment, NULL-terminated; may be NULL */
    int progress_fd;     /* the fd number the child sees its progress pipe on (3), or -1 for none */
    int merge_stderr;    /* 1: stderr goes to the stdout pipe (one ordered log) */
} proc_spec_t;

typedef struct proc {
    pid_t pid;
    int out_fd;      /* read end of the child's stdout (non-blocking), -1 once at EOF and closed */
    int err_fd;      /* read end of stderr, -1 when merged or closed */
    int progress_fd; /* read end of the progress pipe, -1 when none or closed */
    int exited;      /* set by proc_reap */
    int status;      /* wait status (WIFEXITED / WIFSIGNALED) when exited */
    int64_t kill_at_ms; /* monotonic deadline for SIGKILL after proc_terminate, 0 = none */
} proc_t;

/* Starts the child. Returns 0, or -1 with the reason in err (the command was not started; a
 * command that is not found or not executable is reported here, not as an exit code 127). */
int proc_start(const proc_spec_t *spec, proc_t *p, char *err, size_t errlen);
/* Sends SIGTERM to the child's process group and arms SIGKILL after grace_ms. */
void proc_terminate(proc_t *p, int64_t grace_ms);
/* Sends SIGKILL when the grace period is over; call periodically. */
void proc_check_kill(proc_t *p);
/* Non-blocking waitpid; 1 once the child has exited (status set), else 0. */
int proc_reap(proc_t *p);
/* Closes whatever fds are still open. Does not kill. */
void proc_close(proc_t *p);
/* Human words for a wait status: "exited with code 3", "killed by signal 9 (Killed)". */
void proc_describe_status(int status, char *out, size_t n);

#endif
