# shellcheck shell=bash
# Shared part of slurm/growth.sbatch and slurm/growth-array.sbatch: finds symbatch, decides
# whether to resume, launches the job step, forwards the pre-time-limit signal to it and requeues
# the job when symbatch stops after a checkpoint (exit 75).  Sourced, never run.
#
# Environment (all optional):
#   SB_BINARY    the symbatch executable (default: symbatch on PATH, then
#                $SLURM_SUBMIT_DIR/build/release/symbatch)
#   SB_LAUNCHER  srun (default: srun --mpi=pmix) or mpirun (mpirun -n $SLURM_NTASKS; as root
#                it needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
#   SB_OUTPUT    the result file (passed to symbatch as --output; default: the job file's
#                output: key).  Its checkpoint <output>.ckpt.h5 decides --resume.
#   SB_REQUEUE   0: do not requeue after exit 75 (the job then ends with exit code 75)
#
# Signals: Slurm sends SIGUSR1 to this batch shell (--signal=B:USR1@SECONDS) before the time
# limit.  The shell runs the step in the background and waits for it; the trap forwards SIGUSR1
# once to the launcher (srun and mpirun both pass SIGUSR1 on to every rank), and the shell waits
# again.  symbatch writes <output>.ckpt.h5 and exits 75; this script then runs
# `scontrol requeue $SLURM_JOB_ID` and exits 0, and the rerun (SLURM_RESTART_COUNT > 0) finds the
# checkpoint and passes --resume.  SIGTERM (scancel, the hard time limit, preemption) reaches
# every process of the job from Slurm itself, so it is not forwarded, and a run stopped by it is
# not requeued: submit the same command again and it resumes from the checkpoint.

SB_STEP_PID=
SB_SIGNAL=
SB_FORWARDED=0

sb_log() { echo "symbatch-slurm: $(date -u +%H:%M:%S) $*" >&2; }

# sb_find_binary: prints the symbatch executable to use, or fails.
sb_find_binary() {
    local b
    if [ -n "${SB_BINARY:-}" ]; then
        [ -x "$SB_BINARY" ] || {
            sb_log "ERROR: SB_BINARY=$SB_BINARY is not an executable file"
            return 1
        }
        echo "$SB_BINARY"
        return 0
    fi
    if b=$(command -v symbatch); then
        echo "$b"
        return 0
    fi
    b=${SLURM_SUBMIT_DIR:-$PWD}/build/release/symbatch
    if [ -x "$b" ]; then
        echo "$b"
        return 0
    fi
    sb_log "ERROR: no symbatch: set SB_BINARY, put symbatch on PATH, or build $b"
    return 1
}

# sb_job_output JOBFILE: the value of the job file's top-level output: key (quotes and a
# trailing comment removed), or nothing.
sb_job_output() {
    sed -n -E '/^output:/{
        s/^output:[[:space:]]*//
        s/[[:space:]]+#.*$//
        s/[[:space:]]+$//
        s/^"(.*)"$/\1/
        s/^'"'"'(.*)'"'"'$/\1/
        p
        q
    }' "$1"
}

sb_on_signal() {
    SB_SIGNAL=$1
    if [ "$1" != USR1 ]; then
        sb_log "got SIG$1: Slurm signals every process of the job itself; not forwarded"
    elif [ -z "$SB_STEP_PID" ]; then
        sb_log "got SIGUSR1 before the job step started; it is forwarded once the step runs"
    elif [ "$SB_FORWARDED" = 1 ]; then
        sb_log "got SIGUSR1 again; already forwarded to the job step"
    else
        sb_log "got SIGUSR1: forwarding it to the job step ($SB_LAUNCHER pid $SB_STEP_PID)"
        SB_FORWARDED=1
        kill -USR1 "$SB_STEP_PID" 2>/dev/null || sb_log "the job step had already ended"
    fi
}

# sb_wait_step: waits for the background job step; a trapped signal interrupts `wait`, so it
# waits again until the step is really gone, then returns the step's exit status.
sb_wait_step() {
    local rc=0
    while :; do
        rc=0
        wait "$SB_STEP_PID" || rc=$?
        kill -0 "$SB_STEP_PID" 2>/dev/null || break
    done
    # The step is gone: wait once more for its own status (an interrupted wait returned 128+sig).
    rc=0
    wait "$SB_STEP_PID" 2>/dev/null || rc=$?
    return "$rc"
}

# sb_requeue: puts this job back in the queue; Slurm ends this run (the shell gets SIGTERM).
sb_requeue() {
    trap '' TERM USR1
    if [ -z "${SLURM_JOB_ID:-}" ]; then
        sb_log "not running under Slurm: nothing to requeue; run again with --resume"
        return 1
    fi
    if ! command -v scontrol >/dev/null; then
        sb_log "ERROR: scontrol not found: cannot requeue"
        return 1
    fi
    local out
    if out=$(scontrol requeue "$SLURM_JOB_ID" 2>&1); then
        sb_log "requeued job $SLURM_JOB_ID: its next run resumes from the checkpoint"
        return 0
    fi
    sb_log "ERROR: scontrol requeue $SLURM_JOB_ID failed: $out"
    sb_log "submit the same job again: it resumes from the checkpoint"
    return 1
}

# sb_run_job JOBFILE [symbatch options...]: the whole life of one run; exits the script.
sb_run_job() {
    local job=$1
    shift
    local sb out restart ckpt i
    local args=("$@")
    export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
    [ -f "$job" ] || {
        sb_log "ERROR: job file '$job' not found (from $PWD)"
        exit 2
    }
    sb=$(sb_find_binary) || exit 1
    SB_LAUNCHER=${SB_LAUNCHER:-srun}
    restart=${SLURM_RESTART_COUNT:-0}

    # The result file: --output among the options, else SB_OUTPUT, else the job file's key.
    out=
    for ((i = 0; i < ${#args[@]}; i++)); do
        case ${args[i]} in
        --output | -o) out=${args[i + 1]:-} ;;
        esac
    done
    if [ -z "$out" ] && [ -n "${SB_OUTPUT:-}" ]; then
        out=$SB_OUTPUT
        args+=(--output "$out")
    fi
    [ -n "$out" ] || out=$(sb_job_output "$job")

    if [ -z "$out" ]; then
        sb_log "WARNING: no output: key in $job and no SB_OUTPUT: resuming is not possible"
    else
        mkdir -p "$(dirname "$out")"
        ckpt=$out.ckpt.h5
        if [ -e "$ckpt" ]; then
            sb_log "checkpoint $ckpt found (restart $restart): passing --resume"
            args+=(--resume)
        elif [ "$restart" -gt 0 ] && [ -e "$out" ]; then
            sb_log "restart $restart: $out is complete and has no checkpoint: nothing to do"
            exit 0
        elif [ "$restart" -gt 0 ]; then
            sb_log "WARNING: restart $restart but no checkpoint $ckpt: starting from the beginning"
        fi
    fi

    local cmd
    case $SB_LAUNCHER in
    srun) cmd=(srun --mpi=pmix "$sb" run "$job" "${args[@]}") ;;
    mpirun) cmd=(mpirun -n "${SLURM_NTASKS:-1}" "$sb" run "$job" "${args[@]}") ;;
    *)
        sb_log "ERROR: SB_LAUNCHER must be srun or mpirun, not '$SB_LAUNCHER'"
        exit 2
        ;;
    esac
    sb_log "job ${SLURM_JOB_ID:-none} (${SLURM_JOB_NAME:-}) restart $restart," \
        "${SLURM_NTASKS:-?} tasks on ${SLURM_JOB_NUM_NODES:-?} node(s) ${SLURM_JOB_NODELIST:-}"
    sb_log "running: ${cmd[*]}"

    trap 'sb_on_signal USR1' USR1
    trap 'sb_on_signal TERM' TERM
    "${cmd[@]}" &
    SB_STEP_PID=$!
    if [ "$SB_SIGNAL" = USR1 ]; then
        sb_log "forwarding the early SIGUSR1 to the job step"
        SB_FORWARDED=1
        kill -USR1 "$SB_STEP_PID" 2>/dev/null
    fi
    local rc=0
    sb_wait_step || rc=$?
    sb_log "symbatch exited with $rc"

    if [ "$rc" != 75 ]; then
        exit "$rc"
    fi
    if [ "$SB_SIGNAL" = TERM ]; then
        sb_log "stopped by SIGTERM after a checkpoint: Slurm is ending this job; not requeued" \
            "(submit it again to resume)"
        exit 75
    fi
    if [ "${SB_REQUEUE:-1}" = 0 ]; then
        sb_log "checkpoint written; SB_REQUEUE=0: not requeued (submit it again to resume)"
        exit 75
    fi
    sb_requeue || exit 75
    exit 0
}
