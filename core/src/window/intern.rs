//! Key interning of a [`WindowAggregator`]: each event's key is hashed once and found in place
//! in the key table (an address cache first), new keys get a slot, and the least recently used
//! key is evicted past `max_keys`.

#[allow(clippy::wildcard_imports)]
use super::*;

impl WindowAggregator {
    /// Starts loading what `intern` will read for `e`: its key fields and its address-cache line.
    #[inline(always)]
    pub(super) fn prefetch_key(&self, e: &Event<'_>) {
        let mut at = [0u64; 3];
        for (a, &f) in at.iter_mut().zip(&self.config.key_fields) {
            let v = e.field(f);
            prefetch(v.as_ptr());
            *a = pack(v).unwrap_or(0);
        }
        if !self.cache.is_empty() {
            prefetch(&self.cache[cache_index(&at)]);
        }
    }

    /// On an address-cache hit, starts loading the key's `Meta`; on a miss, hashes the key,
    /// starts loading its table line and returns the hash.
    #[inline(always)]
    pub(super) fn prefetch_slot(&self, e: &Event<'_>) -> Option<u64> {
        let mut at = [0u64; 3];
        let mut packed = true;
        for (a, &f) in at.iter_mut().zip(&self.config.key_fields) {
            match pack(e.field(f)) {
                Some(p) => *a = p,
                None => packed = false,
            }
        }
        if packed
            && let Some(x) = self.cache.get(cache_index(&at))
            && x.epoch == self.epoch as u32
            && x.fields == at
        {
            prefetch(&self.meta[x.slot as usize]);
            return None;
        }
        let h = self.key_hash(e);
        self.keys.prefetch(h);
        Some(h)
    }

    pub(super) fn key_hash(&self, e: &Event<'_>) -> u64 {
        hash_fields(
            self.config
                .key_fields
                .iter()
                .map(|&f| e.field(f).as_bytes()),
        )
    }

    /// The slot of an event's key, created (evicting the least recently seen key when full) if
    /// needed, and marked most recently seen. The key is hashed once and compared in place.
    pub(super) fn intern(&mut self, e: &Event<'_>, hash: Option<u64>) -> u32 {
        let mut at = [0u64; 3];
        for (a, &f) in at.iter_mut().zip(&self.config.key_fields) {
            match pack(e.field(f)) {
                Some(p) => *a = p,
                None => return self.intern_slow(e, hash),
            }
        }
        let c = cache_index(&at);
        let epoch = self.epoch as u32;
        if let Some(x) = self.cache.get(c)
            && x.epoch == epoch
            && x.fields == at
        {
            let s = x.slot;
            self.touch(s);
            return s;
        }
        let s = self.intern_slow(e, hash);
        if self.cache.is_empty() {
            self.cache = vec![CacheEntry::default(); 1 << CACHE_BITS];
        }
        // First come, kept for the call: frequent keys come early and stay, rare keys don't
        // push them out.
        if self.cache[c].epoch != epoch {
            self.cache[c] = CacheEntry {
                fields: at,
                slot: s,
                epoch,
            };
        }
        s
    }

    /// `hash`: the key's hash if already computed (`prefetch_slot`).
    pub(super) fn intern_slow(&mut self, e: &Event<'_>, hash: Option<u64>) -> u32 {
        let h = hash.unwrap_or_else(|| self.key_hash(e));
        let fields = &self.config.key_fields;
        if let Some(s) = self.find(h, fields.iter().map(|&f| e.field(f).as_bytes())) {
            self.touch(s);
            return s;
        }
        let mut buf = std::mem::take(&mut self.key_buf);
        buf.clear();
        for &f in &self.config.key_fields {
            encode_field(&mut buf, e.field(f));
        }
        let s = self.create(h, &buf);
        self.key_buf = buf;
        s
    }

    /// The slot of an encoded key (restore, merge), created if needed; marked seen if `touch`.
    pub(super) fn slot_of_encoded(&mut self, key: &[u8], touch: bool) -> u32 {
        let h = hash_fields(encoded_fields(key));
        match self.find(h, encoded_fields(key)) {
            Some(s) => {
                if touch {
                    self.touch(s);
                }
                s
            }
            None => self.create(h, key),
        }
    }

    pub(super) fn find<'a>(
        &self,
        h: u64,
        fields: impl Iterator<Item = &'a [u8]> + Clone,
    ) -> Option<u32> {
        self.keys.find(h, fields, &self.slots)
    }

    /// Starts a new cache epoch: every address-cache entry becomes stale. Stored epochs are 32
    /// bits, so when they wrap the cache is wiped (epoch 0 is never current).
    pub(super) fn bump_epoch(&mut self) {
        self.epoch += 1;
        if self.epoch as u32 == 0 {
            self.cache.fill(CacheEntry::default());
            self.epoch += 1;
        }
    }

    pub(super) fn create(&mut self, h: u64, key: &[u8]) -> u32 {
        if self.live_keys >= self.config.max_keys {
            let victim = self.least_recent();
            self.stats.evicted_keys = self.stats.evicted_keys.saturating_add(1);
            self.stats.evicted_events = self
                .stats
                .evicted_events
                .saturating_add(self.meta[victim as usize].pending);
            self.remove(victim);
        }
        let threshold = self
            .thresholds
            .get(key)
            .copied()
            .unwrap_or(self.config.threshold);
        let s = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot::default());
                self.meta.push(Meta::default());
                (self.slots.len() - 1) as u32
            }
        };
        self.keys.insert(h, s, key);
        let slot = &mut self.slots[s as usize];
        slot.live = true;
        slot.hash = h;
        slot.key = key.into();
        slot.threshold = threshold;
        self.live_keys += 1;
        self.touch(s);
        if !self.lru_on && self.live_keys * 2 >= self.config.max_keys {
            let (slots, meta) = (&self.slots, &self.meta);
            let mut order: Vec<(u64, u32)> = (0..slots.len() as u32)
                .filter(|&s| slots[s as usize].live)
                .map(|s| (meta[s as usize].seen, s))
                .collect();
            order.sort_unstable();
            self.lru = order.into();
            self.lru_on = true;
        }
        s
    }

    pub(super) fn touch(&mut self, s: u32) {
        let m = &mut self.meta[s as usize];
        if m.seen == self.seq && self.seq != 0 {
            return; // already the most recently seen
        }
        self.seq += 1;
        m.seen = self.seq;
        if !self.lru_on {
            return;
        }
        self.lru.push_back((self.seq, s));
        if self.lru.len() > 2 * self.live_keys + 1024 {
            // Stamps are unique and a removed key's is 0, so an equal stamp means live.
            let meta = &self.meta;
            self.lru.retain(|&(q, s)| meta[s as usize].seen == q);
        }
    }

    /// The least recently seen live key (there is one: called only when `max_keys` are held).
    pub(super) fn least_recent(&mut self) -> u32 {
        while let Some((q, s)) = self.lru.pop_front() {
            if self.meta[s as usize].seen == q {
                return s;
            }
        }
        unreachable!("max_keys >= 1 keys are live, each with a current arrival stamp")
    }

    /// Drops a key. With events still pending it stays reserved (not live) until they drain.
    pub(super) fn remove(&mut self, s: u32) {
        self.keys.remove(self.slots[s as usize].hash, s);
        self.live_keys -= 1;
        self.bump_epoch();
        if self.lru_on && self.live_keys * 4 < self.config.max_keys {
            self.lru_on = false;
            self.lru = VecDeque::new();
        }
        self.slots[s as usize] = Slot::default();
        let m = &mut self.meta[s as usize];
        m.seen = 0;
        if m.pending == 0 {
            self.free.push(s);
        }
    }
}
