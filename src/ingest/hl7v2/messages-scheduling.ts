import type { MessageDef } from './messages';
import { mapAppointment } from './map-appointment';

// Scheduling ("lịch hẹn khám").

const appointment = (event: string): MessageDef => ({ event, structure: 'SIU_S12', igMap: 'SIU_S12 to Bundle', map: mapAppointment });

export const SCHEDULING_MESSAGES: MessageDef[] = [appointment('SIU^S12'), appointment('SIU^S13'), appointment('SIU^S14'), appointment('SIU^S15')];
