export { parseFhirXml, FHIR_NS, XHTML_NS } from './parse';
export { serializeFhirXml } from './serialize';
