import { segmentMap } from '../segment-maps';

// Timing (thời gian thực hiện): the IG reads TQ1 before the deprecated ORC-7/OBR-27/SCH-11.
export const TQ1 = segmentMap({
  segment: 'TQ1',
  igTable: 'Segment TQ1 to MedicationRequest; Segment TQ1 to ServiceRequest',
  resource: 'ServiceRequest',
  fields: {
    3: 'occurrenceTiming | dosageInstruction.timing (code, repeat.frequency, period)', 4: 'timing.repeat.timeOfDay',
    7: 'ServiceRequest.occurrenceDateTime | timing.repeat.boundsPeriod.start | Appointment.start',
    8: 'timing.repeat.boundsPeriod.end | Appointment.end',
    2: 'ServiceRequest.quantityQuantity', 6: 'timing.repeat.boundsDuration (without TQ1-7/8), else the missing end of boundsPeriod', 9: 'ServiceRequest.priority | MedicationRequest.priority',
    10: 'dosageInstruction.additionalInstruction.text | ServiceRequest.asNeededCodeableConcept.text', 11: 'dosageInstruction.text | ServiceRequest.note', 13: 'timing.repeat.duration, durationUnit',
    14: 'timing.repeat.count',
  },
});
