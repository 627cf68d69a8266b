import { segmentMap } from '../segment-maps';

// The PID table the mapper in map-patient.ts follows (which fields go where, and which not).
export const PID = segmentMap({
  segment: 'PID',
  igTable: 'Segment PID to Patient',
  resource: 'Patient',
  fields: {
    2: 'Patient.identifier', 3: 'Patient.identifier (and the resource id)', 4: 'Patient.identifier', 5: 'Patient.name', 6: 'Patient.extension (mothersMaidenName)',
    7: 'Patient.birthDate (+ birthTime)', 8: 'Patient.gender', 9: 'Patient.name (alias)', 11: 'Patient.address', 12: 'Patient.address.district',
    13: 'Patient.telecom', 14: 'Patient.telecom', 15: 'Patient.communication.language', 16: 'Patient.maritalStatus', 17: 'Patient.extension (religion)',
    18: 'Account.identifier (and the visit key when PV1-19 is empty)', 21: 'RelatedPerson.identifier (mother)', 19: 'Patient.identifier (SS)', 20: 'Patient.identifier (DL)', 23: 'Patient.extension (birthPlace)',
    24: 'Patient.multipleBirthBoolean', 25: 'Patient.multipleBirthInteger', 26: 'Patient.extension (citizenship)', 28: 'Patient.extension (nationality)',
    29: 'Patient.deceasedDateTime', 30: 'Patient.deceasedBoolean', 40: 'Patient.telecom',
    10: 'Patient.extension (vn-ethnic-group, a GSO dân tộc code)', 22: 'Patient.extension (vn-ethnic-group, a GSO dân tộc code)',
    33: 'Provenance.occurredDateTime (over the Patient)', 34: 'Provenance.agent (last update facility)',
    35: 'Patient.extension (patient-animal.species)', 36: 'Patient.extension (patient-animal.breed)', 39: 'Patient.extension (patient-citizenship)',
  },
  dropped: {
    27: 'veterans military status: not used in Vietnam',
    31: 'identity unknown indicator: no R4 Patient element',
    32: 'identity reliability code: no R4 Patient element',
    37: 'strain: no R4 patient-animal element', 38: 'production class code: no R4 patient-animal element',
  },
});
