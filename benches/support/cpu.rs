//! CPU time of the calling thread, for figures per CPU-second that stay meaningful when
//! other work shares the machine (wall time would count the time the thread waited).

use std::time::Duration;

/// CPU time used so far by the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
pub(crate) fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is always
    // available on Linux. On failure `ts` stays zero and the sample is meaningless but safe.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
