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
  },
});

export const AIS = segmentMap({ segment: 'AIS', igTable: 'Segment AIS to Appointment', resource: 'Appointment', fields: { 3: 'Appointment.serviceType', 4: 'Appointment.start (without TQ1 or SCH-11)', 7: 'Appointment.minutesDuration', 8: 'Appointment.minutesDuration (unit)' } });
export const AIG = segmentMap({ segment: 'AIG', igTable: 'Segment AIG to Appointment', resource: 'Appointment', fields: { 3: 'Appointment.participant.actor.display', 4: 'Appointment.participant.type' } });
export const AIL = segmentMap({ segment: 'AIL', igTable: 'Segment AIL to Appointment', resource: 'Appointment', fields: { 3: 'Appointment.participant.actor (Location)', 6: 'Appointment.start (fallback)' } });
export const AIP = segmentMap({ segment: 'AIP', igTable: 'Segment AIP to Appointment', resource: 'Appointment', fields: { 3: 'Appointment.participant.actor (Practitioner)', 4: 'Appointment.participant.type', 6: 'Appointment.start (fallback)' } });
