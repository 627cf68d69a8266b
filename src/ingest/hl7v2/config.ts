/**
 * Per-source settings for an HL7 v2 feed (one RIS, LIS or HIS). Plain data, so it can live in
 * the gateway's configuration file next to the source's network address.
 */
export type VnIdentifierKind = 'CCCD' | 'BHYT' | 'MA_BN';

export interface Hl7SourceConfig {
  /** MA_CSKCB (facility code) of the sender; defaults to MSH-4.1. Scopes every resource id. */
  facility?: string;
  /** Legacy byte encoding of this source (`windows1258`, `tcvn`, `viscii`), overriding MSH-18. */
  charset?: string;
  /**
   * Which Vietnamese identifier a PID-3 repetition is, keyed by the assigning authority
   * (CX-4.1 namespace or CX-4.2 universal id), the identifier type code (CX-5), or both as
   * `authority^type`. A value that is not a kind is taken as the identifier system URI.
   * Example: `{ 'BHXH^HC': 'BHYT', 'BCA': 'CCCD', 'BV_CHORAY^MR': 'MA_BN' }`.
   */
  identifierAuthorities?: Record<string, VnIdentifierKind | string>;
  /** Offset for local timestamps without one; Vietnam is +07:00 all year. */
  timezoneOffset?: string;
  /** Identifier system for accession numbers (ServiceRequest, ImagingStudy), if the site has one. */
  accessionSystem?: string;
}

/** The identifier systems of the draft VN Core guide. */
export const VN_IDENTIFIER_SYSTEM: Record<VnIdentifierKind, string> = {
  CCCD: 'http://fhir.ehealth.gov.vn/core/sid/national_id',
  BHYT: 'http://fhir.ehealth.gov.vn/core/sid/insurance_number',
  MA_BN: 'http://fhir.ehealth.gov.vn/core/sid/patient-internal-id',
};
export const PROVIDER_CODE_SYSTEM = 'http://fhir.ehealth.gov.vn/core/sid/provider-code';
