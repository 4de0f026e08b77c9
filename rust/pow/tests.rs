//! Tests of the nonce search: every kernel against the plain `hashing::sha256d`, the search
//! against a brute force, cancellation, deadlines, bounds and threads. `cargo test --release
//! pow -- --ignored --nocapture` also prints the throughput of each kernel.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::sha::{self, Midstate};
use super::*;
use crate::hashing::sha256d;

/// splitmix64: a small deterministic generator for test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn u32(&mut self) -> u32 {
        self.next() as u32
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in out.iter_mut() {
            *b = self.next() as u8;
        }
        out
    }
}

/// The top 32 bits of the hash as a little-endian number, i.e. the kernels' byte-swapped `H7`.
fn top(hash: &[u8; 32]) -> u32 {
    u32::from_le_bytes(hash[28..32].try_into().unwrap())
}

/// The `H7` state word the kernels return for `nonce`.
fn expected_h7(header: &[u8; 80], nonce: u32) -> u32 {
    top(&pow_hash(header, nonce)).swap_bytes()
}

/// A target whose top 32 bits are `top` and whose other bits are all ones.
fn target_with_top(top: u32) -> [u8; 32] {
    let mut t = [0xFF; 32];
    t[28..].copy_from_slice(&top.to_le_bytes());
    t
}

/// The smallest nonce of `start..start + count` meeting `target`, by the plain hasher.
fn brute_force(header: &[u8; 80], target: &[u8; 32], start: u32, count: u64) -> Option<u32> {
    (u64::from(start)..u64::from(start) + count)
        .map(|n| n as u32)
        .find(|&n| hash_meets_target(&pow_hash(header, n), target))
}

fn never() -> AtomicBool {
    AtomicBool::new(false)
}

#[test]
fn compress_matches_sha2() {
    let mut rng = Rng(1);
    for _ in 0..50 {
        let header: [u8; 80] = rng.bytes();
        let target = [0u8; 32];
        let m = Midstate::new(&header, &target);
        // SHA-256 of the 80 bytes, finished by hand from the midstate.
        let mut block2 = [0u8; 64];
        block2[..16].copy_from_slice(&header[64..]);
        block2[16] = 0x80;
        block2[62..].copy_from_slice(&640u16.to_be_bytes());
        let mut state = m.mid;
        sha::compress(&mut state, &block2);
        let digest: Vec<u8> = state.iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(digest, hashing::sha256(&header));
    }
}

#[test]
fn scalar_kernel_matches_sha256d() {
    let mut rng = Rng(2);
    for _ in 0..64 {
        let header: [u8; 80] = rng.bytes();
        let m = Midstate::new(&header, &[0u8; 32]);
        for _ in 0..16 {
            let nonce = rng.u32();
            let h7 = sha::sha256d_h7::<u32>(&m, nonce.swap_bytes());
            assert_eq!(h7, expected_h7(&header, nonce));
        }
    }
}

/// Every lane of every SIMD kernel against the plain hasher, for random headers and batch
/// starts (including batches that wrap past nonce `0xFFFF_FFFF`).
#[cfg(target_arch = "x86_64")]
#[test]
fn simd_kernels_match_sha256d() {
    fn check<const N: usize>(name: &str, batch: impl Fn(&Midstate, u32) -> [u32; N]) {
        let mut rng = Rng(3);
        for round in 0..48 {
            let header: [u8; 80] = rng.bytes();
            let m = Midstate::new(&header, &[0u8; 32]);
            let base = match round {
                0 => u32::MAX - 2,
                1 => 0,
                _ => rng.u32(),
            };
            let got = batch(&m, base);
            for (i, h7) in got.into_iter().enumerate() {
                let nonce = base.wrapping_add(i as u32);
                assert_eq!(h7, expected_h7(&header, nonce), "{name}, nonce {nonce:#x}");
            }
        }
    }
    if Backend::ShaNi.is_available() {
        macro_rules! sse {
            ($($n:literal),*) => {$(
                check(concat!("sha-ni x", $n), |m, b| {
                    // SAFETY: SHA-NI (with SSE4.1 and SSSE3) was detected just above.
                    unsafe { x86::shani::h7_batch::<$n>(m, b) }
                });
            )*};
        }
        sse!(1, 2, 3, 4, 5);
        if std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx2")
        {
            check("sha-ni vl x4", |m, b| {
                // SAFETY: SHA-NI, AVX2, AVX-512F and AVX-512VL were detected.
                unsafe { x86::shani::h7_batch_vl::<SHANI_INTERLEAVE>(m, b) }
            });
        }
    }
    if Backend::Avx512.is_available() {
        check("avx512", |m, b| {
            // SAFETY: AVX-512F was detected just above.
            unsafe { x86::avx512::h7_batch(m, b) }
        });
    }
    if Backend::Avx2.is_available() {
        check("avx2", |m, b| {
            // SAFETY: AVX2 was detected just above.
            unsafe { x86::avx2::h7_batch(m, b) }
        });
    }
}

/// The early check is exact: with the target's top word equal to a nonce's, the nonce is a
/// candidate, and one below it, it is not (a candidate then fails the full comparison).
#[test]
fn every_backend_exact_early_check() {
    let mut rng = Rng(4);
    for (k, kernel) in Kernel::all_available().into_iter().enumerate() {
        let backend = format!("kernel {k}");
        for _ in 0..40 {
            let header: [u8; 80] = rng.bytes();
            let nonce = rng.u32();
            let t = top(&pow_hash(&header, nonce));
            let m = Midstate::new(&header, &target_with_top(t));
            let (s, e) = (u64::from(nonce), u64::from(nonce) + 1);
            assert_eq!(kernel.scan(&m, s, e), Some(nonce), "{backend}");
            if t > 0 {
                let m = Midstate::new(&header, &target_with_top(t - 1));
                assert_eq!(kernel.scan(&m, s, e), None, "{backend}");
            }
        }
    }
}

/// Every kernel returns the first candidate of a range wherever it falls in a step (every
/// lane, and ranges ending mid-step).
#[test]
fn every_kernel_finds_the_first_candidate_in_every_lane() {
    let mut rng = Rng(41);
    for kernel in Kernel::all_available() {
        for _ in 0..6 {
            let header: [u8; 80] = rng.bytes();
            let nonce = rng.u32() | 64;
            // A target top that about one nonce in 8 meets, and the target nonce's own top.
            let t = top(&pow_hash(&header, nonce)).max(0x1FFF_FFFF);
            let m = Midstate::new(&header, &target_with_top(t));
            for back in 0..20u32 {
                let s = u64::from(nonce - back);
                for len in [1u64, 5, 9, 17, 41] {
                    let e = (s + len).min(1 << 32);
                    let want = (s..e).find(|&n| top(&pow_hash(&header, n as u32)) <= t);
                    assert_eq!(kernel.scan(&m, s, e), want.map(|n| n as u32), "{s}..{e}");
                }
            }
        }
        // The last nonces of the space: lanes past 2^32 wrap and must be ignored.
        let header: [u8; 80] = rng.bytes();
        let m = Midstate::new(&header, &[0xFF; 32]);
        let last = u64::from(u32::MAX);
        assert_eq!(kernel.scan(&m, last, last + 1), Some(u32::MAX));
        let m = Midstate::new(&header, &target_with_top(0));
        let want = (last - 20..=last).find(|&n| top(&pow_hash(&header, n as u32)) == 0);
        assert_eq!(kernel.scan(&m, last - 20, last + 1), want.map(|n| n as u32));
    }
}

/// Real Bitcoin mainnet headers (`shared/vectors`): every backend, on one and two threads,
/// finds each header's own nonce as the only solution of a range around it, at every
/// position of a step.
#[test]
fn bitcoin_mainnet_headers() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/bitcoin-mainnet-headers-822528-830592.bin"
    );
    let data = std::fs::read(path)
        .unwrap_or_else(|e| panic!("missing Bitcoin header vectors at {path}: {e}"));
    assert_eq!(data.len() % HEADER_LEN, 0);
    let headers: Vec<[u8; 80]> = data
        .chunks_exact(HEADER_LEN)
        .map(|h| h.try_into().unwrap())
        .collect();
    assert!(headers.len() > 8000);
    for (i, header) in headers.iter().enumerate().step_by(509) {
        let nonce = u32::from_le_bytes(header[76..80].try_into().unwrap());
        let bits = u32::from_le_bytes(header[72..76].try_into().unwrap());
        let mut target = [0u8; 32];
        let exp = (bits >> 24) as usize;
        target[exp - 3..exp].copy_from_slice(&(bits & 0x00FF_FFFF).to_le_bytes()[..3]);
        let hash = pow_hash(header, nonce);
        assert!(hash_meets_target(&hash, &target), "header {i}");
        for kernel in Kernel::all_available() {
            let m = Midstate::new(header, &target);
            for back in 0..12u32 {
                let s = u64::from(nonce.saturating_sub(back));
                let e = (u64::from(nonce) + 3).min(1 << 32);
                assert_eq!(kernel.scan(&m, s, e), Some(nonce), "header {i}");
                assert_eq!(kernel.scan(&m, s, u64::from(nonce)), None, "header {i}");
            }
        }
        let start = nonce.saturating_sub(5000);
        for backend in Backend::available() {
            for threads in [1, 2] {
                let out = search(header, &target, start, 6000, threads, backend, &never()).unwrap();
                let found = out.found.expect("the header's nonce");
                assert_eq!(
                    (found.nonce, found.hash),
                    (nonce, hash),
                    "{backend} header {i}"
                );
            }
        }
    }
}

#[test]
fn finds_and_verifies_with_easy_target() {
    let mut rng = Rng(5);
    let header: [u8; 80] = rng.bytes();
    let target = target_with_top(0x00FF_FFFF); // about 1 nonce in 256
    for backend in Backend::available() {
        let out = search(&header, &target, 1000, 1 << 20, 1, backend, &never()).unwrap();
        let s = out.found.expect("a solution within 2^20 nonces");
        assert_eq!(s.hash, sha256d(&with_nonce(&header, s.nonce)));
        assert!(hash_meets_target(&s.hash, &target));
        assert!(s.nonce >= 1000);
        assert!(!out.cancelled && !out.timed_out);
        assert_eq!(Some(s.nonce), brute_force(&header, &target, 1000, 1 << 20));
    }
}

/// The search returns exactly the smallest valid nonce (so never misses one), on every
/// backend and thread count, including candidates that pass the early check and then fail.
#[test]
fn no_false_negatives_against_brute_force() {
    let mut rng = Rng(6);
    let threads_list = [1, 2, 3, 8];
    for round in 0..6 {
        let header: [u8; 80] = rng.bytes();
        let start = rng.u32() >> 1;
        let count = 20_000;
        let target = match round {
            // One solution in ~4096 nonces: a few in the range.
            0..=2 => target_with_top(0x000F_FFFF),
            // The hash of one nonce of the range, minus one: that nonce passes the early
            // check and fails the full one.
            _ => {
                let n = start + rng.u32() % 20_000;
                let mut t = pow_hash(&header, n);
                let i = t.iter().position(|&b| b != 0).unwrap();
                t[i] -= 1;
                t[..i].fill(0xFF);
                t
            }
        };
        let expected = brute_force(&header, &target, start, count);
        for backend in Backend::available() {
            for threads in threads_list {
                let out =
                    search(&header, &target, start, count, threads, backend, &never()).unwrap();
                assert_eq!(out.found.map(|s| s.nonce), expected, "{backend} x{threads}");
                if expected.is_none() {
                    assert_eq!(out.hashes, count, "{backend} x{threads}");
                }
            }
        }
    }
}

#[test]
fn range_without_solution() {
    let mut rng = Rng(7);
    let header: [u8; 80] = rng.bytes();
    let target = target_with_top(0x0000_FFFF); // one in 65536
    let start = 77;
    // Find a 3000-nonce range with no solution, then search exactly that range.
    let count = 3000;
    assert_eq!(brute_force(&header, &target, start, count), None);
    for backend in Backend::available() {
        let out = search(&header, &target, start, count, 2, backend, &never()).unwrap();
        assert_eq!(out.found, None);
        assert_eq!(out.hashes, count);
        assert!(!out.cancelled && !out.timed_out);
    }
}

#[test]
fn hash_equal_to_target_is_valid() {
    let mut rng = Rng(8);
    let header: [u8; 80] = rng.bytes();
    let nonce = 123_456;
    let target = pow_hash(&header, nonce);
    for backend in Backend::available() {
        let out = search(&header, &target, nonce, 1, 1, backend, &never()).unwrap();
        assert_eq!(out.found.map(|s| s.nonce), Some(nonce), "{backend}");
    }
}

#[test]
fn nonce_space_bounds() {
    let mut rng = Rng(9);
    let header: [u8; 80] = rng.bytes();
    let anything = [0xFF; 32];
    for backend in Backend::available() {
        // The last nonce is searchable.
        let out = search(&header, &anything, u32::MAX, 1, 1, backend, &never()).unwrap();
        assert_eq!(out.found.map(|s| s.nonce), Some(u32::MAX));
        assert_eq!(out.hashes, 1);
        // Nothing wraps around to nonce 0: only the last 5 nonces are hashed.
        let target = pow_hash(&header, 0);
        let out = search(&header, &target, u32::MAX - 4, 5, 2, backend, &never()).unwrap();
        assert_eq!(
            out.found.map(|s| s.nonce),
            brute_force(&header, &target, u32::MAX - 4, 5),
            "{backend}"
        );
        if out.found.is_none() {
            assert_eq!(out.hashes, 5);
        }
        // Finds the exact nonce at the top of the space.
        let target = pow_hash(&header, u32::MAX);
        let out = search(&header, &target, u32::MAX - 40, 41, 1, backend, &never()).unwrap();
        let expected = brute_force(&header, &target, u32::MAX - 40, 41);
        assert_eq!(out.found.map(|s| s.nonce), expected);
        assert!(expected.is_some());
    }
    // count defaults to the rest of the space; past it is malformed.
    let run = |start: u32, count: Option<u64>| {
        Search {
            start_nonce: start,
            count,
            threads: 1,
            backend: Backend::Scalar,
            deadline: None,
        }
        .run(&header, &anything, &never())
    };
    assert_eq!(run(u32::MAX, None).unwrap().found.unwrap().nonce, u32::MAX);
    assert!(matches!(run(u32::MAX, Some(2)), Err(Error::Malformed(_))));
    assert!(matches!(
        run(0, Some(NONCE_SPACE + 1)),
        Err(Error::Malformed(_))
    ));
    assert!(run(0, Some(NONCE_SPACE)).is_ok());
    let out = run(5, Some(0)).unwrap();
    assert_eq!((out.found, out.hashes), (None, 0));
}

#[test]
fn rejects_bad_parameters() {
    let header = [0u8; 80];
    let target = [0u8; 32];
    let err = search(
        &header,
        &target,
        0,
        1,
        MAX_THREADS + 1,
        Backend::Scalar,
        &never(),
    );
    assert!(matches!(err, Err(Error::Malformed(_))));
    for backend in Backend::ALL {
        let out = search(&header, &target, 0, 1, 1, backend, &never());
        assert_eq!(out.is_ok(), backend.is_available());
    }
    assert!("sha-ni".parse::<Backend>().is_ok());
    assert!(matches!(
        "sha_ni".parse::<Backend>(),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn backend_names_round_trip() {
    for b in Backend::ALL {
        assert_eq!(Backend::from_name(b.name()), Some(b));
        assert_eq!(b.to_string(), b.name());
    }
    assert_eq!(Backend::available().last(), Some(&Backend::Scalar));
    assert!(Backend::best().is_available());
    assert_eq!(Backend::available()[0], Backend::best());
}

#[test]
fn meets_target_is_little_endian() {
    let mut hash = [0u8; 32];
    let mut target = [0u8; 32];
    assert!(hash_meets_target(&hash, &target)); // equal
    hash[0] = 1;
    assert!(!hash_meets_target(&hash, &target));
    target[1] = 1; // 256 > 1
    assert!(hash_meets_target(&hash, &target));
    hash[31] = 1; // the top byte dominates
    assert!(!hash_meets_target(&hash, &target));
    target[31] = 1;
    assert!(hash_meets_target(&hash, &target));
}

#[test]
fn cancel_before_start() {
    let cancel = AtomicBool::new(true);
    let out = search(
        &[0u8; 80],
        &[0u8; 32],
        0,
        NONCE_SPACE,
        2,
        Backend::best(),
        &cancel,
    )
    .unwrap();
    assert!(out.cancelled);
    assert_eq!(out.found, None);
    assert_eq!(out.hashes, 0);
}

#[test]
fn cancel_from_another_thread() {
    for backend in Backend::available() {
        let cancel = AtomicBool::new(false);
        let began = Instant::now();
        let out = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(30));
                cancel.store(true, Ordering::Relaxed);
            });
            // An impossible target over the whole space: minutes of work if not cancelled.
            search(&[7u8; 80], &[0u8; 32], 0, NONCE_SPACE, 2, backend, &cancel).unwrap()
        });
        assert!(out.cancelled, "{backend}");
        assert!(!out.timed_out);
        assert!(out.hashes > 0 && out.hashes < NONCE_SPACE);
        // Generous: the search would take minutes; cancellation is seen within a chunk.
        assert!(began.elapsed() < Duration::from_secs(5), "{backend}");
    }
}

#[test]
fn deadline_stops_the_search() {
    let began = Instant::now();
    let out = Search {
        threads: 2,
        deadline: Some(Instant::now() + Duration::from_millis(40)),
        ..Search::default()
    }
    .run(&[9u8; 80], &[0u8; 32], &never())
    .unwrap();
    assert!(out.timed_out);
    assert!(!out.cancelled);
    assert!(out.hashes > 0);
    assert!(began.elapsed() < Duration::from_secs(5));
}

#[test]
fn threads_default_to_all_cores() {
    let out = Search {
        count: Some(1 << 22),
        backend: Backend::best(),
        ..Search::default()
    }
    .run(&[1u8; 80], &[0u8; 32], &never())
    .unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(
        out.threads,
        cores.min((1 << 22) / Backend::best().chunk() as usize)
    );
    assert_eq!(out.hashes, 1 << 22);
}

/// Throughput of every kernel and SHA-NI interleave (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn throughput() {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    /// This thread's CPU time (not counting time other processes had the core).
    fn cpu_time() -> f64 {
        let mut ts = Timespec { sec: 0, nsec: 0 };
        // SAFETY: CLOCK_THREAD_CPUTIME_ID (3) with a valid out-pointer.
        unsafe { clock_gettime(3, &mut ts) };
        ts.sec as f64 + ts.nsec as f64 * 1e-9
    }
    fn rate(name: &str, f: impl Fn(u64, u64) -> Option<u32>) {
        let mut best = 0f64;
        let mut best_cpu = 0f64;
        for rep in 0..7 {
            let n = 1u64 << 21;
            let t = Instant::now();
            let c = cpu_time();
            let base = rep * n;
            assert_eq!(f(base, base + n), None);
            best_cpu = best_cpu.max(n as f64 / (cpu_time() - c) / 1e6);
            best = best.max(n as f64 / t.elapsed().as_secs_f64() / 1e6);
        }
        println!(
            "{name:>14}: {best:7.2} M nonces/s wall, {best_cpu:7.2} per CPU second (best of 7)"
        );
    }
    let m = Midstate::new(&[3u8; 80], &[0u8; 32]);
    #[cfg(target_arch = "x86_64")]
    if Backend::ShaNi.is_available() {
        macro_rules! shani {
            ($($n:literal),*) => {$(
                // SAFETY: SHA-NI was detected above.
                rate(concat!("sha-ni sse x", $n), |s, e| unsafe { x86::shani::scan::<$n>(&m, s, e) });
            )*};
        }
        shani!(1, 2, 3, 4, 5, 6);
        if std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx2")
        {
            macro_rules! shani_vl {
                ($($n:literal),*) => {$(
                    // SAFETY: SHA-NI, AVX2, AVX-512F and AVX-512VL were detected above.
                    rate(concat!("sha-ni vl x", $n), |s, e| unsafe { x86::shani::scan_vl::<$n>(&m, s, e) });
                )*};
            }
            shani_vl!(1, 2, 3, 4, 5, 6, 8);
        }
    }
    for backend in Backend::available() {
        let k = Kernel::new(backend).unwrap();
        rate(backend.name(), |s, e| k.scan(&m, s, e));
    }
    #[cfg(target_arch = "x86_64")]
    if Backend::ShaNi.is_available() {
        rate("sha-ni (sse)", |s, e| Kernel::ShaNi.scan(&m, s, e));
    }
    for threads in [1, 2] {
        let out = Search {
            threads,
            deadline: Some(Instant::now() + Duration::from_secs(2)),
            ..Search::default()
        }
        .run(&[3u8; 80], &[0u8; 32], &never())
        .unwrap();
        let mhs = out.hashes as f64 / out.elapsed.as_secs_f64() / 1e6;
        println!("search, best backend, {threads} thread(s): {mhs:7.2} M nonces/s wall");
    }
}
