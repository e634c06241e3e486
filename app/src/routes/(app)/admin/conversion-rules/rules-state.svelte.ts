/**
 * State of the conversion rules page: the rules in order, and the people,
 * groups and mailboxes the editor offers. Every change goes to the server
 * first and the list shows the server's answer, so it never shows an order
 * or a switch the server refused.
 */
import { api } from '$lib/api';
import type { GroupDto, MailAccountDto, PersonDto } from '$sync/api';
import type { ConversionRuleDto, ConversionRuleInput, ConversionRulePatch } from '$sync/conversion-api';
import type { Names } from './describe-rule';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export class ConversionRulesState {
  rules = $state<ConversionRuleDto[]>([]);
  people = $state<PersonDto[]>([]);
  groups = $state<GroupDto[]>([]);
  mailboxes = $state<MailAccountDto[]>([]);
  status = $state<LoadStatus>('idle');
  loadError = $state<string | null>(null);

  readonly activePeople = $derived(
    this.people.filter((p) => p.active).sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' })),
  );
  readonly names = $derived<Names>({
    people: new Map(this.people.map((p) => [p.id, p.name])),
    groups: new Map(this.groups.map((g) => [g.id, g.name])),
    mailboxes: new Map(this.mailboxes.map((m) => [m.id, `${m.label} (${m.email})`])),
  });

  async load(): Promise<void> {
    this.status = 'loading';
    this.loadError = null;
    try {
      const [rules, people, groups, mailboxes] = await Promise.all([
        api.listConversionRules(),
        api.listPeople(),
        api.listGroups(),
        api.listAllMailAccounts(),
      ]);
      this.rules = rules.rules;
      this.people = people.people;
      this.groups = groups.groups;
      this.mailboxes = mailboxes.accounts;
      this.status = 'ready';
    } catch (error) {
      this.status = 'error';
      this.loadError = error instanceof Error && error.message ? error.message : 'Could not load the conversion rules.';
      throw error;
    }
  }

  async create(input: ConversionRuleInput): Promise<ConversionRuleDto> {
    const rule = await api.createConversionRule(input);
    this.rules = [...this.rules, rule];
    return rule;
  }

  async update(id: string, patch: ConversionRulePatch): Promise<ConversionRuleDto> {
    const rule = await api.updateConversionRule(id, patch);
    this.rules = this.rules.map((r) => (r.id === id ? rule : r));
    return rule;
  }

  async remove(id: string): Promise<void> {
    await api.deleteConversionRule(id);
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  /** Moves a rule one place up (-1) or down (+1). */
  async move(id: string, delta: -1 | 1): Promise<void> {
    const ids = this.rules.map((r) => r.id);
    const from = ids.indexOf(id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= ids.length) {
      return;
    }
    [ids[from], ids[to]] = [ids[to] as string, id];
    this.rules = (await api.reorderConversionRules(ids)).rules;
  }
}
