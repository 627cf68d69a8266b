/** Small HL7 v2 messages built for intake tests: only the fields a test varies. */
export interface AdtOptions {
  controlId: string;
  sendingApp?: string;
  sendingFacility?: string;
  timestamp?: string;
  patientName?: string;
  patientId?: string;
}

export function adtA04(o: AdtOptions): Buffer {
  const segs = [
    `MSH|^~\\&|${o.sendingApp ?? 'HIS'}|${o.sendingFacility ?? '79001'}|GW|GW|${o.timestamp ?? '20240615101500'}||ADT^A04^ADT_A01|${o.controlId}|P|2.5.1`,
    'EVN|A04|20240615101500',
    `PID|1||${o.patientId ?? 'BN0001'}^^^79001^MR||${o.patientName ?? 'Nguyễn^Văn An'}||19800101|M`,
    'PV1|1|O',
  ];
  return Buffer.from(segs.join('\r') + '\r', 'utf8');
}

export const msa = (ack: Buffer | string) => /(^|\r)MSA\|([A-Z]{2})\|([^|\r]*)/.exec(Buffer.isBuffer(ack) ? ack.toString('utf8') : ack);
export const errSegments = (ack: Buffer | string) => (Buffer.isBuffer(ack) ? ack.toString('utf8') : ack).split('\r').filter((s) => s.startsWith('ERR|'));
