// The QoS area's public surface: service classes, the capacity model, admission control, quotes.
export { ServiceClasses, ServiceClassError, type ServiceClass } from './classes.js';
export { CapacityModel, CapacityError, type ResourceUsage, type Overcommit } from './capacity.js';
export {
  AdmissionControl,
  type ReservationRequest,
  type AdmittedReservation,
  type AdmissionRefusal,
  type AvailabilityResult,
  type AdmitResult,
  type AdmissionStats,
  type Bottleneck,
} from './admission.js';
export { quoteReservation, type PriceFn, type PriceContext, type PreorderRequest, type PreorderQuote, type PreorderResult } from './quote.js';
export type { LoadSample } from './load.js';
