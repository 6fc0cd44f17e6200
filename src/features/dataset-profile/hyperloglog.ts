/**
 * HyperLogLog distinct-count estimate with a fixed 2^10 registers (1 KiB per column, 1,368
 * characters of base64 in the parse cursor): standard error 1.04/√1024 ≈ 3.25 %, so about
 * 95 % of estimates fall within ±6.5 %. Below 2.5 × 1024 distinct values the linear-counting
 * correction applies, which is exact in practice for a few hundred values. Values are
 * hashed with MurmurHash3 (32 bits) over their UTF-16 code units.
 */
const PRECISION = 10;
const REGISTERS = 1 << PRECISION;
const ALPHA = 0.7213 / (1 + 1.079 / REGISTERS);
const TWO_32 = 2 ** 32;

/** MurmurHash3 x86 32-bit over a string's UTF-16 code units (two per 32-bit block). */
export function hash32(text: string, seed = 0): number {
  let h = seed >>> 0;
  const length = text.length;
  const pairs = length & ~1;
  for (let i = 0; i < pairs; i += 2) {
    let k = (text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16)) >>> 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (length & 1) {
    let k = text.charCodeAt(length - 1);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HyperLogLog {
  private readonly registers: Uint8Array;

  constructor(serialised?: string) {
    this.registers = serialised ? Uint8Array.from(atob(serialised), (c) => c.charCodeAt(0)) : new Uint8Array(REGISTERS);
    if (this.registers.length !== REGISTERS) throw new Error(`HyperLogLog state has ${this.registers.length} registers, not ${REGISTERS}`);
  }

  add(text: string): void {
    const hash = hash32(text);
    const index = hash >>> (32 - PRECISION);
    // Rank of the first 1 bit in the remaining 22 bits (23 when they are all zero).
    const rest = (hash << PRECISION) >>> 0;
    const rank = rest === 0 ? 32 - PRECISION + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (const register of this.registers) {
      sum += 2 ** -register;
      if (register === 0) zeros += 1;
    }
    const raw = (ALPHA * REGISTERS * REGISTERS) / sum;
    if (raw <= 2.5 * REGISTERS && zeros > 0) return Math.round(REGISTERS * Math.log(REGISTERS / zeros));
    if (raw > TWO_32 / 30) return Math.round(-TWO_32 * Math.log(1 - raw / TWO_32));
    return Math.round(raw);
  }

  serialise(): string {
    let binary = "";
    for (const register of this.registers) binary += String.fromCharCode(register);
    return btoa(binary);
  }
}
