//! Where the aggregator keeps things: pending events and their runs, each key's ring of recent
//! texts, the open-addressing key table and the address cache, and key encoding.

use std::collections::VecDeque;

use super::*;

pub(super) const NIL: u32 = u32::MAX;
/// `Pending::text` with this bit set indexes the current call's events (their strings are used
/// in place); without it, it indexes `WindowAggregator::texts` (copied into the arena).
pub(super) const IN_BATCH: u32 = 1 << 31;
/// Longest slice of events handled in one pass (batch indices must stay below `IN_BATCH`).
pub(super) const MAX_PASS: usize = 1 << 30;

/// A not-yet-final event, 16 bytes: sorting and merging them is cheap.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    pub(super) t: i64,
    pub(super) slot: u32,
    pub(super) text: u32,
}

/// Pending events sorted by time; `v[..head]` were already made final.
#[derive(Clone, Debug, Default)]
pub(super) struct Run {
    pub(super) v: Vec<Pending>,
    pub(super) head: usize,
}

impl Run {
    pub(super) fn live(&self) -> &[Pending] {
        &self.v[self.head..]
    }
}

/// A key's most recent events (time, message, trace id), oldest first, with all texts in one byte
/// buffer: hot keys append to memory that stays in cache, and the bytes of dropped entries are
/// reclaimed by an occasional compaction (amortised O(1) per event, no allocation once warm).
#[derive(Clone, Debug, Default)]
pub(super) struct Ring {
    /// (time, start in `text`, message length, trace id length).
    pub(super) entries: VecDeque<(i64, usize, usize, usize)>,
    pub(super) text: Vec<u8>,
}

impl Ring {
    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.text.clear();
    }

    pub(super) fn push(&mut self, cap: usize, t: i64, message: &[u8], trace: &[u8]) {
        if self.entries.len() >= cap {
            self.entries.pop_front();
            let dead = self.entries.front().map_or(self.text.len(), |e| e.1);
            if dead > 1024 && dead * 2 > self.text.len() {
                self.text.drain(..dead);
                for e in &mut self.entries {
                    e.1 -= dead;
                }
            }
        }
        if self.entries.is_empty() {
            self.text.clear();
        }
        let start = self.text.len();
        self.text.extend_from_slice(message);
        self.text.extend_from_slice(trace);
        self.entries
            .push_back((t, start, message.len(), trace.len()));
    }

    /// Oldest first: (time, message, trace id). The bytes came from `&str`s, so they are UTF-8.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = (i64, &str, &str)> + Clone + '_ {
        self.entries.iter().map(|&(t, start, m, tr)| {
            let text = |a: usize, b: usize| std::str::from_utf8(&self.text[a..b]).unwrap_or("");
            (t, text(start, start + m), text(start + m, start + m + tr))
        })
    }
}

/// See `WindowAggregator::cache`: the key fields' (address, length) packed as `address << 16 |
/// length` (see `pack`), the slot, and the low 32 bits of the epoch it was stored in. 32 bytes,
/// so the whole cache (256 KB) stays in the L2 cache.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CacheEntry {
    pub(super) fields: [u64; 3],
    pub(super) slot: u32,
    pub(super) epoch: u32,
}

pub(super) const CACHE_BITS: u32 = 13;

/// A string's (address, length) as one word, when it fits (addresses below 2^48, the user space
/// of every 64-bit platform we build for, and lengths below 2^16); `None` skips the cache.
pub(super) fn pack(v: &str) -> Option<u64> {
    let (a, n) = (v.as_ptr() as usize as u64, v.len() as u64);
    (a < 1 << 48 && n < 1 << 16).then_some(a << 16 | n)
}

pub(super) fn cache_index(at: &[u64; 3]) -> usize {
    let h = at[0] ^ at[1].rotate_left(21) ^ at[2].rotate_left(42);
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - CACHE_BITS)) as usize
}

/// Per-slot fields the push path updates for every event, kept apart from the large `Slot` so an
/// event whose key is in the address cache touches 16 bytes of a dense array, not a slot.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Meta {
    /// Arrival stamp of the key's latest event (least recently seen = smallest; 0 = not live).
    pub(super) seen: u64,
    /// Events of the key not yet final.
    pub(super) pending: u64,
}

/// Longest inline key copy in a `KeyEntry` (each field as a 1-byte length and its bytes).
pub(super) const INLINE: usize = 51;
/// `KeyEntry::len` of a key too long to be inline (compared with the slot's key instead).
pub(super) const LONG: u8 = u8::MAX;

/// One cache line of the key table: the key's hash, its slot and, when short enough, a copy of
/// its fields, so finding a key usually reads this line and nothing else.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(super) struct KeyEntry {
    pub(super) hash: u64,
    /// `NIL` = empty.
    pub(super) slot: u32,
    /// Bytes used in `inline`, or `LONG`.
    pub(super) len: u8,
    pub(super) inline: [u8; INLINE],
}

pub(super) const EMPTY: KeyEntry = KeyEntry {
    hash: 0,
    slot: NIL,
    len: 0,
    inline: [0; INLINE],
};

/// Open addressing with linear probing over `KeyEntry` lines (load at most 3/4; removal shifts
/// later entries back, so there are no tombstones). Every live key is in it exactly once.
#[derive(Clone, Debug, Default)]
pub(super) struct KeyTable {
    pub(super) entries: Vec<KeyEntry>,
    pub(super) len: usize,
    pub(super) shift: u32,
}

impl KeyTable {
    pub(super) fn home(&self, h: u64) -> usize {
        ((h ^ (h >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    pub(super) fn prefetch(&self, h: u64) {
        if !self.entries.is_empty() {
            prefetch(&self.entries[self.home(h)]);
        }
    }

    pub(super) fn find<'a>(
        &self,
        h: u64,
        fields: impl Iterator<Item = &'a [u8]> + Clone,
        slots: &[Slot],
    ) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        let mask = self.entries.len() - 1;
        let mut i = self.home(h);
        loop {
            let e = &self.entries[i];
            if e.slot == NIL {
                return None;
            }
            if e.hash == h {
                let same = if e.len == LONG {
                    key_matches(&slots[e.slot as usize].key, fields.clone())
                } else {
                    inline_matches(&e.inline[..e.len as usize], fields.clone())
                };
                if same {
                    return Some(e.slot);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds a key known to be absent (`key` encoded as in `Slot::key`).
    pub(super) fn insert(&mut self, h: u64, slot: u32, key: &[u8]) {
        if (self.len + 1) * 4 > self.entries.len() * 3 {
            let cap = (self.entries.len() * 2).max(64);
            let old = std::mem::replace(&mut self.entries, vec![EMPTY; cap]);
            self.shift = 64 - cap.trailing_zeros();
            for e in old.into_iter().filter(|e| e.slot != NIL) {
                let i = self.free_at(e.hash);
                self.entries[i] = e;
            }
        }
        let mut e = KeyEntry {
            hash: h,
            slot,
            len: LONG,
            inline: [0; INLINE],
        };
        let mut n = 0;
        let fits = encoded_fields(key).all(|f| {
            let end = n + 1 + f.len();
            if f.len() >= usize::from(LONG) || end > INLINE {
                return false;
            }
            e.inline[n] = f.len() as u8;
            e.inline[n + 1..end].copy_from_slice(f);
            n = end;
            true
        });
        if fits {
            e.len = n as u8;
        }
        let i = self.free_at(h);
        self.entries[i] = e;
        self.len += 1;
    }

    pub(super) fn free_at(&self, h: u64) -> usize {
        let mask = self.entries.len() - 1;
        let mut i = self.home(h);
        while self.entries[i].slot != NIL {
            i = (i + 1) & mask;
        }
        i
    }

    pub(super) fn remove(&mut self, h: u64, slot: u32) {
        if self.entries.is_empty() {
            return;
        }
        let mask = self.entries.len() - 1;
        let mut i = self.home(h);
        loop {
            match self.entries[i].slot {
                NIL => return,
                s if s == slot => break,
                _ => i = (i + 1) & mask,
            }
        }
        self.len -= 1;
        // Backward shift: move up every later entry of the cluster whose home is not in (i, j].
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let e = self.entries[j];
            if e.slot == NIL {
                break;
            }
            let home = self.home(e.hash);
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.entries[i] = e;
                i = j;
            }
        }
        self.entries[i] = EMPTY;
    }
}

/// Asks the CPU to start loading the cache line at `p`: the push and apply loops are bound by
/// memory latency, so they request what an event a few places ahead will need.
#[inline(always)]
pub(super) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// How many events ahead the push loop prefetches.
pub(super) const AHEAD: usize = 16;

/// Whether inline key bytes hold exactly these fields.
pub(super) fn inline_matches<'a>(mut b: &[u8], fields: impl Iterator<Item = &'a [u8]>) -> bool {
    for f in fields {
        let Some((&n, rest)) = b.split_first() else {
            return false;
        };
        if usize::from(n) != f.len() || !rest.starts_with(f) {
            return false;
        }
        b = &rest[f.len()..];
    }
    b.is_empty()
}

#[derive(Clone, Debug, Default)]
pub(super) struct Slot {
    /// Holds a key. A slot that is neither live nor on the free list was evicted while events of
    /// it were pending: those are skipped as they become final, and the last one frees the slot.
    pub(super) live: bool,
    pub(super) hash: u64,
    pub(super) key: Box<[u8]>,
    pub(super) threshold: u64,
    /// Final events in the current window, `(time, how many)`, ascending.
    pub(super) times: VecDeque<(i64, u64)>,
    pub(super) count: u64,
    pub(super) last_over: bool,
    pub(super) last_fire: Option<i64>,
    pub(super) ring: Ring,
    /// The key's baseline, when a rate trigger is set and the key has had a final event.
    pub(super) rate: Option<RateState>,
}

pub(super) fn encode_field(buf: &mut Vec<u8>, v: &str) {
    // Length-prefixed, so no separator character can make two keys collide.
    buf.extend_from_slice(&(v.len() as u64).to_le_bytes());
    buf.extend_from_slice(v.as_bytes());
}

/// The fields of an encoded key.
pub(super) fn encoded_fields(mut bytes: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    std::iter::from_fn(move || {
        let (len, rest) = bytes.split_first_chunk::<8>()?;
        let len = (u64::from_le_bytes(*len) as usize).min(rest.len());
        let (v, rest) = rest.split_at(len);
        bytes = rest;
        Some(v)
    })
}

pub(super) fn hash_fields<'a>(fields: impl Iterator<Item = &'a [u8]>) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    for f in fields {
        h.write(f);
        h.write_usize(f.len());
    }
    h.finish()
}

/// Whether an encoded key holds exactly these fields (no encoding of the candidate needed).
pub(super) fn key_matches<'a>(mut enc: &[u8], fields: impl Iterator<Item = &'a [u8]>) -> bool {
    for f in fields {
        let Some((len, rest)) = enc.split_first_chunk::<8>() else {
            return false;
        };
        if u64::from_le_bytes(*len) != f.len() as u64 || !rest.starts_with(f) {
            return false;
        }
        enc = &rest[f.len()..];
    }
    enc.is_empty()
}

/// The message and trace id of a pending event.
pub(super) fn text_of<'a>(
    events: &'a [Event<'a>],
    arena: &'a str,
    texts: &'a [(usize, usize, usize)],
    p: &Pending,
) -> (&'a str, &'a str) {
    if p.text & IN_BATCH != 0 {
        let e = &events[(p.text & !IN_BATCH) as usize];
        (e.message, e.trace_id)
    } else {
        let (o, m, tr) = texts[p.text as usize];
        (&arena[o..o + m], &arena[o + m..o + m + tr])
    }
}
