"""A new database's casework in one migration: the tables as 0001 to 0011 leave them, then
the default departments, the system actor and the append-only triggers (the data those add
to existing rows has no row to change in a new database).

Django applies it to a database that has none of the migrations it replaces: a new one is
made in one state instead of eleven (``npldesk init`` and every test database: the state
rendering of eleven migrations took longer than the rest of ``init``). A database with some
or all of 0001 to 0011 applied goes on with those files, which stay until every home has
them all. The closing steps call the functions of 0002, 0003 and 0004: when those files are
removed, their functions move into this one.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Module names that start with a digit are imported by name.
_departments = importlib.import_module("npldesk.casework.migrations.0002_default_departments")
_system_actor = importlib.import_module("npldesk.casework.migrations.0003_system_actor")
_append_only = importlib.import_module("npldesk.casework.migrations.0004_append_only_ledgers")


class Migration(migrations.Migration):
    replaces = [
        ("casework", "0001_initial"),
        ("casework", "0002_default_departments"),
        ("casework", "0003_system_actor"),
        ("casework", "0004_append_only_ledgers"),
        ("casework", "0005_loan_owed_and_unexplained_exit"),
        ("casework", "0006_api_tokens_and_idempotency"),
        ("casework", "0007_runs"),
        ("casework", "0008_jobs"),
        ("casework", "0009_activity_conduct_and_judgment_dates"),
        ("casework", "0010_reminders"),
        ("casework", "0011_documents"),
    ]

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Department',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=32, unique=True)),
                ('name', models.CharField(max_length=200)),
            ],
        ),
        migrations.CreateModel(
            name='Case',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=80, unique=True)),
                ('kind', models.CharField(choices=[('npl', 'NPL'), ('early_warning', 'Early warning')], max_length=20)),
                ('state', models.CharField(choices=[('opened', 'Opened'), ('investigating', 'Investigating'), ('plan_proposed', 'Plan proposed'), ('plan_approved', 'Plan approved'), ('in_progress', 'In progress'), ('escalated', 'Escalated (legal)'), ('resolved', 'Resolved')], default='opened', max_length=20)),
                ('ability', models.CharField(choices=[('able', 'Able'), ('partly_able', 'Partly able'), ('unable', 'Unable'), ('unknown', 'Unknown (not investigated)')], default='unknown', max_length=20)),
                ('willingness', models.CharField(choices=[('willing', 'Willing'), ('unwilling', 'Unwilling'), ('unreachable', 'Unreachable')], default='willing', max_length=20)),
                ('strategy', models.CharField(choices=[('investigate', 'Investigate first'), ('trace_and_litigate', 'Asset search, tracing, public notice, litigation'), ('collateral_enforcement', 'Enforcement against collateral'), ('negotiated_repayment', 'Negotiated full repayment'), ('lawyers_letter_litigation', "Lawyer's letter, then litigation"), ('letter_and_settlement', "Lawyer's letter and a settlement offer"), ('repayment_plan', 'Repayment plan or partial settlement'), ('litigation_enforcement', 'Litigation and enforcement'), ('bulk_transfer', 'Bulk transfer'), ('write_off', 'Write-off'), ('securitisation', 'Securitisation')], default='investigate', max_length=40)),
                ('tier', models.CharField(choices=[('short', 'Short'), ('medium', 'Medium'), ('long', 'Long')], default='short', max_length=10)),
                ('deadline', models.DateField()),
                ('overridden', models.JSONField(blank=True, default=list)),
                ('opened_on', models.DateField()),
                ('closed_on', models.DateField(blank=True, null=True)),
                ('close_reason', models.CharField(blank=True, choices=[('repaid', 'Repaid'), ('upgraded', 'Upgraded'), ('transferred', 'Transferred'), ('foreclosed', 'Foreclosed'), ('settled', 'Settled'), ('restructured_performing', 'Restructured and performing'), ('written_off_exhausted', 'Written off, recovery exhausted'), ('unexplained_exit', 'Left the books without a terminal row')], max_length=30)),
                ('npl_balance', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('balance', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('collateral_value', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('written_off', models.BooleanField(default=False)),
                ('synced_as_of', models.DateField(blank=True, null=True)),
                ('broken_promises', models.PositiveIntegerField(default=0)),
                ('next_promise_due', models.DateField(blank=True, null=True)),
                ('next_instalment_due', models.DateField(blank=True, null=True)),
                ('plan_breached', models.BooleanField(default=False)),
                ('next_hearing_on', models.DateField(blank=True, null=True)),
                ('legal_alert_on', models.DateField(blank=True, null=True)),
                ('last_contact_on', models.DateField(blank=True, null=True)),
                ('version', models.PositiveIntegerField(default=1)),
                ('previous_case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='later_cases', to='casework.case')),
            ],
        ),
        migrations.CreateModel(
            name='ConductException',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('granted_at', models.DateTimeField()),
                ('starts_on', models.DateField()),
                ('ends_on', models.DateField()),
                ('reason', models.TextField()),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='conduct_exceptions', to='casework.case')),
            ],
            options={
                'ordering': ['-starts_on', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Activity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('phone', 'Phone call'), ('sms', 'SMS'), ('letter', 'Letter'), ('visit', 'Visit'), ('lawyers_letter', "Lawyer's letter"), ('court_visit', 'Court visit'), ('meeting', 'Meeting'), ('negotiation', 'Negotiation'), ('public_notice', 'Public notice'), ('asset_search', 'Asset search'), ('guarantor_contact', 'Guarantor contact'), ('document', 'Legal document drafted')], max_length=30)),
                ('occurred_on', models.DateField()),
                ('occurred_at', models.DateTimeField(blank=True, null=True)),
                ('party', models.CharField(choices=[('borrower', 'Borrower'), ('household_member', 'Household member'), ('guarantor', 'Guarantor'), ('third_party', 'Third party')], default='borrower', max_length=20)),
                ('purpose', models.CharField(choices=[('collection', 'Collection'), ('locating', 'Locating the borrower')], default='collection', max_length=20)),
                ('outcome', models.CharField(choices=[('no_answer', 'No answer'), ('contacted', 'Contacted'), ('promise', 'Promise to pay'), ('refusal', 'Refusal'), ('payment', 'Payment'), ('dispute', 'Dispute'), ('wrong_number', 'Wrong number'), ('drafted', 'Drafted')], max_length=20)),
                ('notes', models.TextField(blank=True)),
                ('attachments', models.JSONField(blank=True, default=list)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='activities', to='casework.case')),
                ('conduct_exception', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.conductexception')),
            ],
            options={
                'ordering': ['-occurred_on', '-occurred_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Household',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('borrower_id', models.CharField(max_length=64, unique=True)),
                ('name', models.CharField(blank=True, max_length=200)),
                ('borrower_type', models.CharField(blank=True, max_length=20)),
                ('id_number', models.CharField(blank=True, max_length=32)),
                ('phones', models.CharField(blank=True, max_length=200)),
                ('address', models.CharField(blank=True, max_length=400)),
                ('version', models.PositiveIntegerField(default=1)),
                ('guarantors', models.ManyToManyField(blank=True, related_name='guaranteed', to='casework.household')),
            ],
        ),
        migrations.AddField(
            model_name='case',
            name='household',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='casework.household'),
        ),
        migrations.CreateModel(
            name='LegalCase',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('court', models.CharField(max_length=200)),
                ('court_case_number', models.CharField(blank=True, max_length=100)),
                ('claim_amount', models.DecimalField(decimal_places=2, max_digits=18)),
                ('lawyer', models.CharField(blank=True, max_length=200)),
                ('stage', models.CharField(choices=[('preparing', 'Preparing'), ('lawyers_letter', "Lawyer's letter"), ('filed', 'Filed'), ('hearing', 'Hearing'), ('judgment', 'Judgment'), ('enforcement_applied', 'Enforcement applied'), ('enforcement', 'Enforcement'), ('terminated_unrecovered', 'Enforcement terminated, not fully recovered'), ('closed', 'Closed')], default='preparing', max_length=30)),
                ('stage_since', models.DateField()),
                ('next_hearing_on', models.DateField(blank=True, null=True)),
                ('costs', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('limitation_date', models.DateField(blank=True, null=True)),
                ('seizure_expiry_date', models.DateField(blank=True, null=True)),
                ('judgment_effective_on', models.DateField(blank=True, null=True)),
                ('performance_due_on', models.DateField(blank=True, null=True)),
                ('version', models.PositiveIntegerField(default=1)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='legal_cases', to='casework.case')),
            ],
        ),
        migrations.CreateModel(
            name='Person',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('roles', models.JSONField(default=list)),
                ('active', models.BooleanField(default=True)),
                ('version', models.PositiveIntegerField(default=1)),
                ('departments', models.ManyToManyField(blank=True, related_name='people', to='casework.department')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='LegalStageEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stage', models.CharField(choices=[('preparing', 'Preparing'), ('lawyers_letter', "Lawyer's letter"), ('filed', 'Filed'), ('hearing', 'Hearing'), ('judgment', 'Judgment'), ('enforcement_applied', 'Enforcement applied'), ('enforcement', 'Enforcement'), ('terminated_unrecovered', 'Enforcement terminated, not fully recovered'), ('closed', 'Closed')], max_length=30)),
                ('entered_on', models.DateField()),
                ('note', models.TextField(blank=True)),
                ('legal_case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='stages', to='casework.legalcase')),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
            ],
            options={
                'ordering': ['entered_on', 'id'],
            },
        ),
        migrations.AddField(
            model_name='legalcase',
            name='holder',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='legal_cases', to='casework.person'),
        ),
        migrations.CreateModel(
            name='Investigation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('investigated_on', models.DateField()),
                ('family_status', models.CharField(blank=True, max_length=200)),
                ('dependants', models.PositiveIntegerField(default=0)),
                ('income_source', models.CharField(blank=True, max_length=200)),
                ('monthly_income', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('employment_state', models.CharField(blank=True, max_length=200)),
                ('properties', models.JSONField(blank=True, default=list)),
                ('vehicles', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('deposits', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('business_assets', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('unencumbered_assets', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('contactability', models.CharField(blank=True, max_length=200)),
                ('health', models.CharField(blank=True, max_length=200)),
                ('notes', models.TextField(blank=True)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='investigations', to='casework.case')),
                ('investigator', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='casework.person')),
            ],
            options={
                'ordering': ['-investigated_on', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Document',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('lawyers_letter', "Lawyer's letter (律师函)"), ('demand_notice', 'Payment demand notice (催收通知书)'), ('complaint', 'Civil complaint draft (民事起诉状)'), ('enforcement_application', 'Application for enforcement (强制执行申请书)')], max_length=30)),
                ('as_of', models.DateField()),
                ('snapshot_as_of', models.DateField()),
                ('generated_at', models.DateTimeField()),
                ('figures', models.JSONField(default=dict)),
                ('files', models.JSONField(default=dict)),
                ('checksums', models.JSONField(default=dict)),
                ('activity', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='document', to='casework.activity')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='documents', to='casework.case')),
                ('generated_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
            ],
            options={
                'ordering': ['-generated_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='conductexception',
            name='granted_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person'),
        ),
        migrations.AddField(
            model_name='case',
            name='owner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases_owned', to='casework.person'),
        ),
        migrations.CreateModel(
            name='AuditRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True)),
                ('actor_name', models.CharField(max_length=150)),
                ('action', models.CharField(db_index=True, max_length=60)),
                ('object_type', models.CharField(max_length=40)),
                ('object_id', models.CharField(max_length=80)),
                ('reason', models.TextField(blank=True)),
                ('before', models.JSONField(blank=True, null=True)),
                ('after', models.JSONField(blank=True, null=True)),
                ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_records', to='casework.case')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='casework.person')),
            ],
            options={
                'ordering': ['at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('digest', models.CharField(max_length=64, unique=True)),
                ('prefix', models.CharField(max_length=12)),
                ('created_at', models.DateTimeField()),
                ('expires_at', models.DateTimeField()),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='api_tokens', to='casework.person')),
            ],
            options={
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='activity',
            name='person',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person'),
        ),
        migrations.CreateModel(
            name='Plan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('strategy', models.CharField(choices=[('investigate', 'Investigate first'), ('trace_and_litigate', 'Asset search, tracing, public notice, litigation'), ('collateral_enforcement', 'Enforcement against collateral'), ('negotiated_repayment', 'Negotiated full repayment'), ('lawyers_letter_litigation', "Lawyer's letter, then litigation"), ('letter_and_settlement', "Lawyer's letter and a settlement offer"), ('repayment_plan', 'Repayment plan or partial settlement'), ('litigation_enforcement', 'Litigation and enforcement'), ('bulk_transfer', 'Bulk transfer'), ('write_off', 'Write-off'), ('securitisation', 'Securitisation')], max_length=40)),
                ('reason', models.TextField()),
                ('target_amount', models.DecimalField(decimal_places=2, max_digits=18)),
                ('target_date', models.DateField()),
                ('state', models.CharField(choices=[('proposed', 'Proposed'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('superseded', 'Superseded')], default='proposed', max_length=20)),
                ('proposed_at', models.DateTimeField()),
                ('version', models.PositiveIntegerField(default=1)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='plans', to='casework.case')),
                ('proposed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
            ],
            options={
                'ordering': ['-proposed_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Milestone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('task', models.CharField(max_length=200)),
                ('due_on', models.DateField()),
                ('done_on', models.DateField(blank=True, null=True)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
                ('plan', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='milestones', to='casework.plan')),
            ],
            options={
                'ordering': ['due_on', 'id'],
            },
        ),
        migrations.CreateModel(
            name='PlanDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('decision', models.CharField(choices=[('proposed', 'Proposed'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('superseded', 'Superseded')], max_length=20)),
                ('at', models.DateTimeField()),
                ('note', models.TextField(blank=True)),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
                ('plan', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='casework.plan')),
            ],
            options={
                'ordering': ['at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Promise',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=18)),
                ('made_on', models.DateField()),
                ('due_on', models.DateField()),
                ('state', models.CharField(choices=[('pending', 'Pending'), ('kept', 'Kept'), ('broken', 'Broken')], default='pending', max_length=10)),
                ('paid', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('activity', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='promises', to='casework.activity')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promises', to='casework.case')),
            ],
            options={
                'ordering': ['due_on', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Recovery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('loan_id', models.CharField(max_length=64)),
                ('received_on', models.DateField()),
                ('amount', models.DecimalField(decimal_places=2, max_digits=18)),
                ('principal_part', models.DecimalField(decimal_places=2, max_digits=18)),
                ('source', models.CharField(choices=[('borrower', 'Borrower'), ('guarantor', 'Guarantor'), ('court_enforcement', 'Court enforcement'), ('collateral_sale', 'Collateral sale'), ('transfer_proceeds', 'Transfer proceeds'), ('debt_for_asset', 'Debt for asset')], max_length=30)),
                ('after_write_off', models.BooleanField(default=False)),
                ('entered_at', models.DateTimeField()),
                ('note', models.TextField(blank=True)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='recoveries', to='casework.case')),
                ('entered_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
                ('reverses', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='casework.recovery')),
            ],
            options={
                'verbose_name_plural': 'recoveries',
                'ordering': ['received_on', 'id'],
            },
        ),
        migrations.CreateModel(
            name='RecoveryConfirmation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField()),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
                ('recovery', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='confirmation', to='casework.recovery')),
            ],
        ),
        migrations.CreateModel(
            name='RepaymentPlan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('full', 'Full repayment'), ('settlement', 'Settlement (partial repayment)')], max_length=20)),
                ('total', models.DecimalField(decimal_places=2, max_digits=18)),
                ('discount', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('agreed_on', models.DateField()),
                ('state', models.CharField(choices=[('active', 'Active'), ('completed', 'Completed'), ('breached', 'Breached'), ('cancelled', 'Cancelled')], default='active', max_length=20)),
                ('version', models.PositiveIntegerField(default=1)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='repayment_plans', to='casework.case')),
            ],
        ),
        migrations.CreateModel(
            name='Run',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(default='month_end', max_length=30)),
                ('as_of', models.DateField()),
                ('state', models.CharField(choices=[('running', 'Running'), ('failed', 'Failed'), ('done', 'Done')], default='running', max_length=10)),
                ('parameters', models.JSONField(default=dict)),
                ('started_at', models.DateTimeField()),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('attempts', models.PositiveIntegerField(default=1)),
                ('error', models.TextField(blank=True)),
                ('started_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='runs', to='casework.person')),
            ],
            options={
                'ordering': ['-as_of', '-started_at'],
            },
        ),
        migrations.CreateModel(
            name='RunStep',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=40)),
                ('position', models.PositiveIntegerField()),
                ('state', models.CharField(choices=[('running', 'Running'), ('failed', 'Failed'), ('done', 'Done')], default='running', max_length=10)),
                ('started_at', models.DateTimeField()),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('counts', models.JSONField(default=dict)),
                ('error', models.TextField(blank=True)),
                ('attempts', models.PositiveIntegerField(default=1)),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='steps', to='casework.run')),
            ],
            options={
                'ordering': ['run', 'position'],
            },
        ),
        migrations.CreateModel(
            name='SyncRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('as_of', models.DateField()),
                ('run_at', models.DateTimeField()),
                ('counts', models.JSONField(default=dict)),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='casework.person')),
            ],
        ),
        migrations.CreateModel(
            name='Team',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=32, unique=True)),
                ('name', models.CharField(max_length=200)),
                ('kind', models.CharField(choices=[('clearing_team', 'Clearing team'), ('task_force', 'Task force')], max_length=20)),
                ('active_from', models.DateField()),
                ('active_to', models.DateField(blank=True, null=True)),
                ('version', models.PositiveIntegerField(default=1)),
                ('leader', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='teams_led', to='casework.person')),
                ('members', models.ManyToManyField(blank=True, related_name='teams', to='casework.person')),
            ],
        ),
        migrations.AddField(
            model_name='case',
            name='team',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='casework.team'),
        ),
        migrations.CreateModel(
            name='TransferPackage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=32, unique=True)),
                ('buyer', models.CharField(max_length=200)),
                ('book_value', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('price', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('cut_off_on', models.DateField()),
                ('signed_on', models.DateField(blank=True, null=True)),
                ('state', models.CharField(choices=[('prepared', 'Prepared'), ('approved', 'Approved'), ('settled', 'Settled')], default='prepared', max_length=20)),
                ('version', models.PositiveIntegerField(default=1)),
                ('approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
                ('prepared_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
            ],
        ),
        migrations.CreateModel(
            name='TransferLoan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('loan_id', models.CharField(max_length=64)),
                ('book_value', models.DecimalField(decimal_places=2, max_digits=18)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='transfer_loans', to='casework.case')),
                ('package', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='loans', to='casework.transferpackage')),
            ],
        ),
        migrations.CreateModel(
            name='Unit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=32, unique=True)),
                ('name', models.CharField(max_length=200)),
                ('level', models.CharField(blank=True, max_length=32)),
                ('path', models.CharField(db_index=True, max_length=1000)),
                ('parent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='casework.unit')),
            ],
            options={
                'ordering': ['path'],
            },
        ),
        migrations.AddField(
            model_name='transferpackage',
            name='unit',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='transfer_packages', to='casework.unit'),
        ),
        migrations.AddField(
            model_name='team',
            name='units',
            field=models.ManyToManyField(blank=True, related_name='teams', to='casework.unit'),
        ),
        migrations.CreateModel(
            name='ReminderPack',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('as_of', models.DateField()),
                ('built_on', models.DateField()),
                ('built_at', models.DateTimeField()),
                ('counts', models.JSONField(default=dict)),
                ('sections', models.JSONField(default=dict)),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reminder_packs', to='casework.unit')),
            ],
            options={
                'ordering': ['-as_of', 'unit__path'],
            },
        ),
        migrations.AddField(
            model_name='person',
            name='units',
            field=models.ManyToManyField(related_name='people', to='casework.unit'),
        ),
        migrations.AddField(
            model_name='household',
            name='unit',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='households', to='casework.unit'),
        ),
        migrations.AddField(
            model_name='case',
            name='unit',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='casework.unit'),
        ),
        migrations.CreateModel(
            name='UnitLegalDetails',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('legal_name', models.CharField(max_length=200)),
                ('address', models.CharField(max_length=400)),
                ('legal_representative', models.CharField(max_length=100)),
                ('phone', models.CharField(blank=True, max_length=100)),
                ('version', models.PositiveIntegerField(default=1)),
                ('unit', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='legal_details', to='casework.unit')),
            ],
        ),
        migrations.CreateModel(
            name='WriteOff',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('loan_id', models.CharField(max_length=64)),
                ('principal', models.DecimalField(decimal_places=2, max_digits=18)),
                ('interest', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('reason', models.TextField()),
                ('state', models.CharField(choices=[('prepared', 'Prepared'), ('reviewed', 'Reviewed by finance'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='prepared', max_length=20)),
                ('prepared_on', models.DateField()),
                ('approved_on', models.DateField(blank=True, null=True)),
                ('version', models.PositiveIntegerField(default=1)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='writeoffs', to='casework.case')),
                ('prepared_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
            ],
        ),
        migrations.CreateModel(
            name='WriteOffDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.CharField(choices=[('prepared', 'Prepared'), ('reviewed', 'Reviewed by finance'), ('approved', 'Approved'), ('rejected', 'Rejected')], max_length=20)),
                ('at', models.DateTimeField()),
                ('note', models.TextField(blank=True)),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='casework.person')),
                ('writeoff', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='casework.writeoff')),
            ],
            options={
                'ordering': ['at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='CaseLoan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('loan_id', models.CharField(max_length=64)),
                ('product', models.CharField(blank=True, max_length=40)),
                ('org_unit', models.CharField(max_length=32)),
                ('officer_id', models.CharField(blank=True, max_length=64)),
                ('principal_balance', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('days_past_due', models.IntegerField(default=0)),
                ('loan_class', models.CharField(blank=True, max_length=20)),
                ('is_npl', models.BooleanField(default=False)),
                ('overdue_interest', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('status', models.CharField(default='active', max_length=20)),
                ('collateral_value', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('as_of', models.DateField()),
                ('owed', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('owed_as_of', models.DateField(blank=True, null=True)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='loans', to='casework.case')),
            ],
            options={
                'indexes': [models.Index(fields=['loan_id'], name='casework_ca_loan_id_50e529_idx')],
                'constraints': [models.UniqueConstraint(fields=('case', 'loan_id'), name='one_row_per_case_loan')],
            },
        ),
        migrations.CreateModel(
            name='Job',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('tape_import', 'Tape import'), ('month_end', 'Month-end run'), ('judge', 'Daily judgement')], max_length=30)),
                ('parameters', models.JSONField(default=dict)),
                ('state', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=10)),
                ('progress_text', models.CharField(blank=True, max_length=200)),
                ('progress_fraction', models.FloatField(blank=True, null=True)),
                ('result', models.JSONField(blank=True, null=True)),
                ('error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField()),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('lease_until', models.DateTimeField(blank=True, null=True)),
                ('worker', models.CharField(blank=True, max_length=100)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='jobs', to='casework.person')),
            ],
            options={
                'ordering': ['created_at', 'id'],
                'indexes': [models.Index(fields=['state', 'kind'], name='job_state_kind')],
            },
        ),
        migrations.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=200)),
                ('fingerprint', models.CharField(max_length=64)),
                ('status', models.PositiveSmallIntegerField(default=0)),
                ('response', models.JSONField(blank=True, null=True)),
                ('created_at', models.DateTimeField(db_index=True)),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='casework.person')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('person', 'key'), name='one_idempotency_key_per_person')],
            },
        ),
        migrations.CreateModel(
            name='ReminderDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('delivered_at', models.DateTimeField()),
                ('emailed_to', models.CharField(blank=True, max_length=254)),
                ('emailed_at', models.DateTimeField(blank=True, null=True)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
                ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reminders', to='casework.person')),
                ('pack', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deliveries', to='casework.reminderpack')),
            ],
            options={
                'ordering': ['-pack__as_of', 'pack__unit__path', 'id'],
                'indexes': [models.Index(fields=['person', 'read_at'], name='reminder_person_read')],
                'constraints': [models.UniqueConstraint(fields=('pack', 'person'), name='one_delivery_per_person')],
            },
        ),
        migrations.CreateModel(
            name='Instalment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('due_on', models.DateField()),
                ('amount', models.DecimalField(decimal_places=2, max_digits=18)),
                ('paid', models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ('paid_on', models.DateField(blank=True, null=True)),
                ('state', models.CharField(choices=[('due', 'Due'), ('paid', 'Paid'), ('late', 'Late'), ('breached', 'Late beyond the grace')], default='due', max_length=10)),
                ('plan', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='instalments', to='casework.repaymentplan')),
            ],
            options={
                'ordering': ['due_on', 'number'],
                'constraints': [models.UniqueConstraint(fields=('plan', 'number'), name='one_instalment_number')],
            },
        ),
        migrations.AddConstraint(
            model_name='run',
            constraint=models.UniqueConstraint(fields=('kind', 'as_of'), name='one_run_per_kind_and_month'),
        ),
        migrations.AddConstraint(
            model_name='runstep',
            constraint=models.UniqueConstraint(fields=('run', 'name'), name='one_step_per_name'),
        ),
        migrations.AddConstraint(
            model_name='transferloan',
            constraint=models.UniqueConstraint(fields=('package', 'loan_id'), name='one_loan_per_package'),
        ),
        migrations.AddConstraint(
            model_name='reminderpack',
            constraint=models.UniqueConstraint(fields=('unit', 'as_of'), name='one_reminder_pack_per_month'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['owner', 'closed_on'], name='casework_ca_owner_i_a2583c_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['team', 'closed_on'], name='casework_ca_team_id_0901c4_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['unit', 'closed_on'], name='casework_ca_unit_id_26da92_idx'),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.UniqueConstraint(condition=models.Q(('closed_on__isnull', True)), fields=('household',), name='one_open_case_per_household'),
        ),
        # What the replaced migrations add to a new database besides its tables, in their order.
        migrations.RunPython(_departments.create, migrations.RunPython.noop),
        migrations.RunPython(_system_actor.create, migrations.RunPython.noop),
        migrations.RunPython(_append_only.create, _append_only.drop),
    ]
