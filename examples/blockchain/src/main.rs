//! A toy blockchain: blocks linked by their SHA-256 hashes, each sealed by a small proof of
//! work, then the chain is printed and validated (and a tampered copy is shown to fail).
//!
//! Usage: `blockchain [DATA...]` — one block per argument after the genesis block (a few
//! sample transactions when there are none). Exits 0 when the chain validates.

use std::env;
use std::process;
use std::time::{SystemTime, UNIX_EPOCH};

/// Hex digits a block's hash must start with ("000": about 4096 tries per block).
const DIFFICULTY: usize = 3;

// ---- SHA-256 (FIPS 180-4) ----

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];
    // Padding: a 1 bit, zeros up to 56 mod 64 bytes, then the length in bits (big-endian).
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());

    for chunk in msg.chunks(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([chunk[4 * i], chunk[4 * i + 1], chunk[4 * i + 2], chunk[4 * i + 3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }

    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

// ---- Blocks and the chain ----

#[derive(Clone, Debug)]
struct Block {
    index: u64,
    timestamp: u64,
    data: String,
    previous_hash: String,
    nonce: u64,
    hash: String,
}

impl Block {
    /// The hash of everything in the block but the hash itself.
    fn compute_hash(&self) -> String {
        let payload = format!(
            "{}|{}|{}|{}|{}",
            self.index, self.timestamp, self.previous_hash, self.nonce, self.data
        );
        hex(&sha256(payload.as_bytes()))
    }

    /// Proof of work: tries nonces until the hash starts with `difficulty` zeros.
    fn mine(index: u64, timestamp: u64, data: &str, previous_hash: &str, difficulty: usize) -> Block {
        let target = "0".repeat(difficulty);
        let mut block = Block {
            index,
            timestamp,
            data: data.to_string(),
            previous_hash: previous_hash.to_string(),
            nonce: 0,
            hash: String::new(),
        };
        loop {
            let hash = block.compute_hash();
            if hash.starts_with(&target) {
                block.hash = hash;
                return block;
            }
            block.nonce += 1;
        }
    }
}

struct Blockchain {
    blocks: Vec<Block>,
    difficulty: usize,
}

impl Blockchain {
    fn new(difficulty: usize) -> Blockchain {
        let genesis = Block::mine(0, now(), "Genesis block", &"0".repeat(64), difficulty);
        Blockchain { blocks: vec![genesis], difficulty }
    }

    fn add(&mut self, data: &str) {
        let last = self.blocks.last().expect("the chain always has its genesis block");
        let block = Block::mine(last.index + 1, now(), data, &last.hash, self.difficulty);
        self.blocks.push(block);
    }

    /// Every block's hash matches its contents and meets the difficulty, and links to the block before.
    fn validate(&self) -> Result<(), String> {
        let target = "0".repeat(self.difficulty);
        for (i, block) in self.blocks.iter().enumerate() {
            if block.index != i as u64 {
                return Err(format!("block #{} has index {}", i, block.index));
            }
            if block.hash != block.compute_hash() {
                return Err(format!("block #{}'s hash does not match its contents", i));
            }
            if !block.hash.starts_with(&target) {
                return Err(format!("block #{}'s hash does not meet the difficulty", i));
            }
            let expected_previous = if i == 0 { "0".repeat(64) } else { self.blocks[i - 1].hash.clone() };
            if block.previous_hash != expected_previous {
                return Err(format!("block #{} does not link to block #{}", i, i.wrapping_sub(1)));
            }
        }
        Ok(())
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn main() {
    // The hash is hand-written: check it against the standard's test vector before trusting it.
    if hex(&sha256(b"abc")) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
        eprintln!("error: SHA-256 self-test failed");
        process::exit(2);
    }

    let mut data: Vec<String> = env::args().skip(1).collect();
    if data.is_empty() {
        data = ["Alice pays Bob 10", "Bob pays Carol 4", "Carol pays Dave 1"].iter().map(|s| s.to_string()).collect();
    }

    println!("Mining {} blocks (difficulty {}: hashes start with \"{}\")", data.len() + 1, DIFFICULTY, "0".repeat(DIFFICULTY));
    let mut chain = Blockchain::new(DIFFICULTY);
    for d in &data {
        chain.add(d);
    }

    for block in &chain.blocks {
        println!();
        println!("Block #{}", block.index);
        println!("  timestamp:     {}", block.timestamp);
        println!("  data:          {}", block.data);
        println!("  previous hash: {}", block.previous_hash);
        println!("  nonce:         {}", block.nonce);
        println!("  hash:          {}", block.hash);
    }
    println!();

    if let Err(e) = chain.validate() {
        println!("Chain INVALID: {}", e);
        process::exit(1);
    }
    println!("Chain valid: {} blocks, every hash matches its block and links to the one before.", chain.blocks.len());

    // Rewriting history breaks the chain: change one block's data and validate again.
    if chain.blocks.len() > 1 {
        let mut tampered = Blockchain { blocks: chain.blocks.clone(), difficulty: chain.difficulty };
        tampered.blocks[1].data = "Mallory pays Mallory 1000".to_string();
        match tampered.validate() {
            Err(e) => println!("Tampered copy rejected: {}.", e),
            Ok(()) => {
                println!("Chain INVALID: a tampered copy still validates");
                process::exit(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_test_vectors() {
        assert_eq!(hex(&sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(&sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            hex(&sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn a_mined_chain_validates_and_a_tampered_one_does_not() {
        let mut chain = Blockchain::new(2);
        chain.add("one");
        chain.add("two");
        assert!(chain.validate().is_ok());
        chain.blocks[1].data = "changed".to_string();
        assert!(chain.validate().is_err());
    }
}
