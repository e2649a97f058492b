# The benchmark segments of benches/eval.rs by name, for the shell benches:
# sourced by one_shot_runs.sh and ten_million.sh.
declare -A Q
Q[spec_example]='contact where role = "decision maker" and has lead(topic = "Contoso Ltd Conference")'
Q[contact_fields]='contact where country = "Germany" and consent_level >= "Marketing" and birth_date < 1990-01-01'
Q[recent_opens]='contact where has at least 3 interaction(type = "Email Opened" and occurred_on >= now - 30d)'
Q[nested]='contact where has lead(has account(industry = "Retail"))'
Q[negations]='contact where not do_not_email and not do_not_bulk_email and city != "Berlin"
           and has no lead(status = "Disqualified") and not (role = "Employee" or is_child)'
Q[text_contains]='contact where email contains "MUELLER" or last_name contains "son"'
Q[wide_or]='contact where city = "Paris" or city = "Toronto" or country = "Japan"
           or job_title = "CEO" or first_name = "Hannah" or role = "Influencer"
           or consent_level = "Tracking" or is_child or email ends with ".fr"
           or has at least 4 lead'
Q[agg_open_pipeline]='contact where sum(lead(status = "Open").estimated_value) > 10000'
Q[agg_last_open]='contact where max(interaction(type = "Email Opened").occurred_on) < now - 90d'
Q[agg_lead_clicks]='lead where count(contact.interaction(type = "Email Clicked" and occurred_on >= now - 30d)) >= 2'
ORDER="spec_example contact_fields recent_opens nested negations text_contains wide_or agg_open_pipeline agg_last_open agg_lead_clicks"
