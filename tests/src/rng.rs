//! A small, seeded pseudo-random generator (splitmix64) for reproducible test workloads.

/// A splitmix64 generator.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The generator of stream `stream` (a writer thread, say) of seed `seed`.
    pub fn new(seed: u64, stream: i64) -> Self {
        Rng(seed ^ (stream as u64).wrapping_mul(0xA076_1D64_78BD_642F))
    }

    /// The next number.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `items`.
    pub fn pick(&mut self, items: &[i64]) -> i64 {
        items[self.below(items.len() as u64) as usize]
    }
}
