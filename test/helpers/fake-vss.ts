import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { loadConfig, type LookupConfig } from '../../src/config';

/**
 * A stand-in for the VSS insurance portal on loopback, speaking the protocol of
 * reference §5.3: `/api/token/take` (form), `KQNhanLichSuKCB2024` (JSON or form) and
 * `Lskcb2025` (form only), with switchable faults.
 */

export interface FakePerson {
  maThe: string;
  cccd: string;
  hoTen: string;
  ngaySinh: string; // dd/MM/yyyy
  gioiTinh: 'Nam' | 'Nữ';
  diaChi?: string;
  maDKBD?: string;
  cqBHXH?: string;
  gtTheTu?: string;
  gtTheDen?: string;
  maKV?: string;
  ngayDu5Nam?: string;
  maTheMoi?: string;
  gtTheTuMoi?: string;
  gtTheDenMoi?: string;
  maDKBDMoi?: string;
  tenDKBDMoi?: string;
}

export type Fault = 'none' | 'slow' | '500' | 'malformed' | 'reset' | 'expired-token';

export const FAKE_USER = '79001_BV';
export const FAKE_PASSWORD = 'mat-khau-bi-mat';

export class FakeVss {
  readonly persons: FakePerson[] = [];
  /** maKetQua forced for an identifier (any of its shapes); otherwise 000 when found, 050 when not. */
  readonly codes = new Map<string, string>();
  fault: Fault = 'none';
  /** How many calls the fault applies to (then it clears); Infinity keeps it. */
  faultCount = Infinity;
  latencyMs = 0;
  slowMs = 10_000;
  tokenTtlSeconds = 3600;
  readonly calls = { token: 0, lookup: 0, history: 0 };
  readonly formats: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Milliseconds spent answering lookups, summed over calls (busy time / wall time = calls in flight on average). */
  busyMs = 0;
  private readonly tokens = new Set<string>();
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  reset(): void {
    this.fault = 'none';
    this.faultCount = Infinity;
    this.latencyMs = 0;
    this.codes.clear();
    this.calls.token = this.calls.lookup = this.calls.history = 0;
    this.formats.length = 0;
    this.maxInFlight = 0;
    this.busyMs = 0;
  }

  /** Revokes every token, as when they expire server-side before the client expected. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  private takeFault(): Fault {
    if (this.fault === 'none' || this.faultCount <= 0) return 'none';
    this.faultCount--;
    return this.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/token/take') {
      this.calls.token++;
      const f = new URLSearchParams(raw);
      const md5 = createHash('md5').update(FAKE_PASSWORD).digest('hex').toUpperCase();
      if (f.get('username') !== FAKE_USER || f.get('password') !== md5) return json(200, { maKetQua: '401', APIKey: null });
      const token = randomUUID();
      this.tokens.add(token);
      return json(200, { maKetQua: '200', APIKey: { access_token: token, id_token: `id-${token}`, token_type: 'Bearer', username: FAKE_USER, expires_in: new Date(Date.now() + this.tokenTtlSeconds * 1000).toISOString() } });
    }
    const history = url.pathname === '/api/egw/Lskcb2025';
    if (!history && url.pathname !== '/api/egw/KQNhanLichSuKCB2024') return json(404, { maKetQua: '404' });
    history ? this.calls.history++ : this.calls.lookup++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const started = performance.now();
    try {
      const fault = this.takeFault();
      if (this.latencyMs) await sleep(this.latencyMs);
      if (fault === 'slow') await sleep(this.slowMs);
      if (fault === 'reset') return void req.socket.destroy();
      if (fault === '500') return json(500, { message: 'Internal Server Error' });
      if (fault === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"maKetQua": "000", "hoTen": ');
      }
      if (fault === 'expired-token') this.tokens.clear();
      const token = url.searchParams.get('token') ?? '';
      const md5 = createHash('md5').update(FAKE_PASSWORD).digest('hex').toUpperCase();
      if (!this.tokens.has(token) || url.searchParams.get('id_token') !== `id-${token}` || url.searchParams.get('username') !== FAKE_USER || url.searchParams.get('password') !== md5) {
        return json(401, { maKetQua: '401', ghiChu: 'Token không hợp lệ' });
      }
      const isJson = (req.headers['content-type'] ?? '').startsWith('application/json');
      this.formats.push(`${history ? 'history' : 'lookup'}:${isJson ? 'json' : 'form'}`);
      if (history && isJson) return json(415, { maKetQua: '205' });
      let fields: Record<string, string>;
      try {
        fields = isJson ? (JSON.parse(raw) as Record<string, string>) : Object.fromEntries(new URLSearchParams(raw));
      } catch {
        return json(200, { maKetQua: '205', ghiChu: 'Lỗi sai định dạng tham số' });
      }
      if (!fields.hoTenCb || !fields.cccdCb) return json(200, { maKetQua: '054', ghiChu: 'CCCD cán bộ chưa đăng ký' });
      const id = fields.maThe ?? '';
      const p = this.persons.find((x) => x.maThe === id || x.cccd === id || x.maThe.slice(5) === id);
      const forced = this.codes.get(id) ?? (p ? this.codes.get(p.maThe) : undefined);
      if (history) {
        return json(200, { maKetQua: '000', dsLichSuKCB2025: p ? visits(p) : [] });
      }
      if (!p) return json(200, { maKetQua: forced ?? '050', ghiChu: 'Không có thông tin thẻ' });
      if (!forced && p.hoTen.toLowerCase() !== (fields.hoTen ?? '').toLowerCase()) return json(200, { maKetQua: '060', ghiChu: 'Sai họ tên' });
      if (!forced && !birthMatches(p.ngaySinh, fields.ngaySinh ?? '')) return json(200, { maKetQua: '070', ghiChu: 'Sai ngày sinh' });
      const code = forced ?? '000';
      if (['054', '055', '100', '101', '401'].includes(code)) return json(200, { maKetQua: code, ghiChu: `Lỗi ${code}` });
      return json(200, {
        maKetQua: code,
        ghiChu: `Thẻ ${code === '000' ? 'còn giá trị sử dụng' : 'kết quả ' + code}. Mã thẻ ${p.maThe}, từ ${p.gtTheTu} đến ${p.gtTheDen}.`,
        maThe: p.maThe, hoTen: p.hoTen, ngaySinh: p.ngaySinh, gioiTinh: p.gioiTinh, diaChi: p.diaChi ?? '', maDKBD: p.maDKBD ?? '', cqBHXH: p.cqBHXH ?? '',
        gtTheTu: p.gtTheTu ?? '', gtTheDen: p.gtTheDen ?? '', maKV: p.maKV ?? '', ngayDu5Nam: p.ngayDu5Nam ?? '', maSoBHXH: p.maThe.slice(5), maTheCu: '',
        maTheMoi: p.maTheMoi ?? '', gtTheTuMoi: p.gtTheTuMoi ?? '', gtTheDenMoi: p.gtTheDenMoi ?? '', maDKBDMoi: p.maDKBDMoi ?? '', tenDKBDMoi: p.tenDKBDMoi ?? '',
        dsLichSuKCB2018: null, dsLichSuKT2018: [],
      });
    } finally {
      this.inFlight--;
      this.busyMs += performance.now() - started;
    }
  }
}

function birthMatches(card: string, asked: string): boolean {
  return card === asked || card.endsWith(`/${asked}`) || card.slice(6) === asked;
}

function visits(p: FakePerson) {
  return [
    { maHoSo: `${p.maThe.slice(5)}-1`, maCSKCB: '79010', ngayVao: '202511030815', ngayRa: '202511051000', tenBenh: 'Viêm phổi', tinhTrang: '1', kqDieuTri: '1', lyDoVV: '1.1' },
    { maHoSo: `${p.maThe.slice(5)}-2`, maCSKCB: '79024', ngayVao: '202512010900', ngayRa: '202512010930', tenBenh: 'Tăng huyết áp', tinhTrang: '1', kqDieuTri: '2', lyDoVV: '1.1' },
  ];
}

// Unref'd: a slow answer still pending when a test ends must not keep the process alive.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** A person with a card in force, numbered so tests and benchmarks can make many. */
export function person(n: number, over: Partial<FakePerson> = {}): FakePerson {
  const num = String(1_000_000_000 + n).slice(-10);
  return {
    maThe: `HC479${num}`,
    cccd: `0791${String(n).padStart(8, '0')}`,
    hoTen: 'Nguyễn Thị Lan',
    ngaySinh: '15/03/1985',
    gioiTinh: 'Nữ',
    diaChi: 'Phường Bến Nghé, Quận 1, TP Hồ Chí Minh',
    maDKBD: '79010',
    cqBHXH: 'BHXH Thành phố Hồ Chí Minh',
    gtTheTu: '01/01/2026',
    gtTheDen: '31/12/2026',
    maKV: 'K2',
    ngayDu5Nam: '01/01/2024',
    ...over,
  };
}

export const TIMEOUT_MS = 800;

/** The gateway's lookup settings for the fake: its account, a short time budget, 1 s freshness. */
export function lookupConfig(url: string | undefined, over: Partial<LookupConfig> = {}): LookupConfig {
  return {
    ...loadConfig({}).lookup,
    ...(url ? { vssBaseUrl: url } : {}),
    vssUsername: FAKE_USER,
    vssPassword: FAKE_PASSWORD,
    officerName: 'Trần Văn Bình',
    officerCccd: '079085000123',
    timeoutMs: TIMEOUT_MS,
    freshSeconds: 1,
    staleSeconds: 3600,
    ...over,
  };
}
