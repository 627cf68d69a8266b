import { segmentMap } from '../segment-maps';

// Schedule (lịch hẹn) → Appointment; AIS/AIG/AIL/AIP add service and participants.
export const SCH = segmentMap({
  segment: 'SCH',
  igTable: 'Segment SCH to Appointment',
  resource: 'Appointment',
  fields: {
    1: 'Appointment.identifier (PLAC)',
    2: 'Appointment.identifier (FILL)',
    6: 'Appointment.cancelationReason',
    7: 'Appointment.reasonCode',
    8: 'Appointment.appointmentType',
    9: 'Appointment.minutesDuration',
    10: 'Appointment.minutesDuration (unit)',
    11: 'Appointment.start / end (without TQ1)',
    25: 'Appointment.status',
    12: 'Appointment.participant (placer contact Practitioner)', 13: 'Practitioner.telecom (placer contact)', 14: 'Practitioner.address (placer contact)', 15: 'Appointment.participant (placer contact Location)',
    16: 'Appointment.participant (filler contact Practitioner)', 17: 'Practitioner.telecom (filler contact)', 18: 'Practitioner.address (filler contact)', 19: 'Appointment.participant (filler contact Location)',
    20: 'Appointment.participant (enterer Practitioner)', 21: 'Practitioner.telecom (enterer)', 22: 'Appointment.participant (enterer Location)',
    26: 'Appointment.basedOn (PLAC)', 27: 'Appointment.basedOn (FILL)',
  },
  dropped: { 5: 'schedule id: no Slot or Schedule is kept', 23: 'parent placer appointment id: no IG mapping', 24: 'parent filler appointment id: no IG mapping' },
});

// AIx-2 segment action code (A add, U update, D delete one resource): a D leaves the resource out.
const ACTION = 'Appointment.participant (D: left out)';
export const AIS = segmentMap({ segment: 'AIS', igTable: 'Segment AIS to Appointment', resource: 'Appointment', fields: { 3: 'Appointment.serviceType', 4: 'Appointment.start (without TQ1 or SCH-11)', 7: 'Appointment.minutesDuration', 8: 'Appointment.minutesDuration (unit)', 10: 'Appointment.status (without SCH-25)' }, dropped: { 2: 'segment action code: the service is the appointment itself, restated whole by each message' } });
export const AIG = segmentMap({ segment: 'AIG', igTable: 'Segment AIG to Appointment', resource: 'Appointment', fields: { 3: 'Appointment.participant.actor.display', 4: 'Appointment.participant.type', 8: 'Appointment.participant.period.start', 9: 'Appointment.participant.period.start (offset)', 10: 'offset units', 11: 'Appointment.participant.period.end', 12: 'duration units', 2: ACTION, 14: 'Appointment.participant.status' } });
export const AIL = segmentMap({ segment: 'AIL', igTable: 'Segment AIL to Appointment', resource: 'Appointment', fields: { 3: 'Appointment.participant.actor (Location)', 6: 'Appointment.participant.period.start / Appointment.start (fallback)', 7: 'Appointment.participant.period.start (offset)', 8: 'offset units', 9: 'Appointment.participant.period.end', 10: 'duration units', 2: ACTION, 12: 'Appointment.participant.status' } });
export const AIP = segmentMap({ segment: 'AIP', igTable: 'Segment AIP to Appointment', resource: 'Appointment', fields: { 3: 'Appointment.participant.actor (Practitioner)', 4: 'Appointment.participant.type', 6: 'Appointment.participant.period.start / Appointment.start (fallback)', 7: 'Appointment.participant.period.start (offset)', 8: 'offset units', 9: 'Appointment.participant.period.end', 10: 'duration units', 2: ACTION, 12: 'Appointment.participant.status' } });
