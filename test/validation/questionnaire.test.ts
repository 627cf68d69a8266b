import type { Questionnaire } from 'fhir/r4';
import { validateResource, withConformanceResources } from '../../src/validation';

const Q: Questionnaire = {
  resourceType: 'Questionnaire',
  url: 'http://example.org/Questionnaire/intake',
  status: 'active',
  item: [
    { linkId: 'smoker', text: 'Hút thuốc?', type: 'boolean', required: true },
    { linkId: 'packs', text: 'Số bao/ngày', type: 'integer', enableWhen: [{ question: 'smoker', operator: '=', answerBoolean: true }], extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/maxValue', valueInteger: 10 }] },
    { linkId: 'sex', text: 'Giới tính', type: 'choice', answerOption: [{ valueCoding: { system: 'http://example.org/gt', code: '1' } }, { valueCoding: { system: 'http://example.org/gt', code: '2' } }] },
  ],
};

function errors(items: unknown[]) {
  const qr = { resourceType: 'QuestionnaireResponse', questionnaire: Q.url, status: 'completed', ...(items.length ? { item: items } : {}) };
  return withConformanceResources([Q], () => validateResource(qr)).filter((i) => i.severity === 'error');
}

describe('QuestionnaireResponse against its Questionnaire', () => {
  it('accepts a consistent response', () => {
    expect(errors([{ linkId: 'smoker', answer: [{ valueBoolean: true }] }, { linkId: 'packs', answer: [{ valueInteger: 2 }] }])).toEqual([]);
  });

  it('reports unknown linkIds, wrong answer types, options and limits', () => {
    expect(errors([{ linkId: 'smoker', answer: [{ valueBoolean: true }] }, { linkId: 'nope', answer: [{ valueString: 'x' }] }]).map((i) => i.diagnostics)).toEqual(["LinkId 'nope' not found in questionnaire"]);
    const e = errors([
      { linkId: 'smoker', answer: [{ valueString: 'yes' }] },
      { linkId: 'sex', answer: [{ valueCoding: { system: 'http://example.org/gt', code: '3' } }] },
    ]);
    expect(e.map((i) => i.expression)).toEqual(['QuestionnaireResponse.item[0].answer[0].value.ofType(string)', 'QuestionnaireResponse.item[1].answer[0]']);
    expect(errors([{ linkId: 'smoker', answer: [{ valueBoolean: true }] }, { linkId: 'packs', answer: [{ valueInteger: 40 }] }])[0]!.diagnostics).toContain('greater than the allowed maximum of 10');
  });

  it('applies required and enableWhen', () => {
    expect(errors([])[0]!.diagnostics).toBe("No response answer found for required item 'smoker'");
    const e = errors([{ linkId: 'smoker', answer: [{ valueBoolean: false }] }, { linkId: 'packs', answer: [{ valueInteger: 1 }] }]);
    expect(e).toEqual([expect.objectContaining({ expression: 'QuestionnaireResponse.item[1]', diagnostics: "Item has answer, even though it is not enabled (item id = 'packs')" })]);
  });

  it('forgets the questionnaire outside its scope', () => {
    const qr = { resourceType: 'QuestionnaireResponse', questionnaire: Q.url, status: 'completed', item: [{ linkId: 'nope' }] };
    expect(validateResource(qr).filter((i) => i.severity === 'error')).toEqual([]);
  });
});

describe('enableWhenExpression (SDC)', () => {
  const withExpression: Questionnaire = {
    resourceType: 'Questionnaire',
    url: 'http://example.org/Questionnaire/thai-san',
    status: 'active',
    item: [
      { linkId: 'co-thai', text: 'Đang mang thai?', type: 'boolean' },
      {
        linkId: 'tuan-thai',
        text: 'Tuần thai',
        type: 'integer',
        extension: [
          {
            url: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression',
            valueExpression: { language: 'text/fhirpath', expression: "%resource.repeat(item).where(linkId='co-thai').answer.value = true" },
          } as never,
        ],
      },
    ],
  };
  const check = (pregnant: boolean) =>
    withConformanceResources([withExpression], () =>
      validateResource({
        resourceType: 'QuestionnaireResponse',
        questionnaire: withExpression.url,
        status: 'completed',
        item: [
          { linkId: 'co-thai', answer: [{ valueBoolean: pregnant }] },
          { linkId: 'tuan-thai', answer: [{ valueInteger: 12 }] },
        ],
      }),
    )
      .filter((i) => i.severity === 'error')
      .map((i) => i.diagnostics);

  it('an answer to an item the expression enables is fine', () => {
    expect(check(true)).toEqual([]);
  });
  it('an answer to an item the expression disables is an error', () => {
    expect(check(false)).toEqual(["Item has answer, even though it is not enabled (item id = 'tuan-thai')"]);
  });
});
