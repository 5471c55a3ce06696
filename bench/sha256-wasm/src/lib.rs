//! Raw exports for bench/sha256-wasm.mjs: a buffer to fill, and `rounds` hashes of its first
//! `len` bytes by each implementation (the last hash's first word is returned, so the work is
//! kept).

use sha2::Digest;

/// A buffer of `len` bytes owned by the caller from now on (never freed: one per run).
#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    vec![0u8; len].leak().as_mut_ptr()
}

fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    // SAFETY: the caller passes a pointer from `alloc` and at most the length it asked for.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

fn first_word(h: &[u8]) -> u32 {
    u32::from_le_bytes([h[0], h[1], h[2], h[3]])
}

/// `sha2` (the full and core modules' and the native engine's).
#[no_mangle]
pub extern "C" fn hash_sha2(ptr: *const u8, len: usize, rounds: u32) -> u32 {
    let data = bytes(ptr, len);
    let mut last = 0;
    for _ in 0..rounds {
        last = first_word(&sha2::Sha256::digest(data));
    }
    last
}

/// `hmac-sha256` with `opt_size` (the progress module's).
#[no_mangle]
pub extern "C" fn hash_small(ptr: *const u8, len: usize, rounds: u32) -> u32 {
    let data = bytes(ptr, len);
    let mut last = 0;
    for _ in 0..rounds {
        last = first_word(&hmac_sha256::Hash::hash(data));
    }
    last
}
