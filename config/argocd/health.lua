-- Argo CD health check for oauth2.clientoperator.dev/OAuth2Client, and for AuthorizationServer and
-- ClusterAuthorizationServer, whose status follows the same conventions.
--
-- Install it as resource.customizations.health.oauth2.clientoperator.dev_OAuth2Client in
-- argocd-cm, and under the keys of the two server kinds (see argocd-cm.yaml beside this file,
-- which embeds this script verbatim under all three).
-- Argo CD runs custom checks without Lua's string, math and io libraries, so this script uses
-- only the base library and the .. operator.
--
-- The operator follows the kstatus conventions: Ready is always present once the operator has
-- seen the resource; Reconciling and Stalled are present only while they are true; and
-- status.observedGeneration is the last generation the operator is done with (applied: Ready, or
-- refused for good: Stalled). The rows below are checked top to bottom; the first that matches
-- decides:
--
--   state                                               health       message
--   no status                                           Progressing  Waiting for the operator
--   observedGeneration < generation (or none)           Progressing  the Reconciling message, or
--                                                                    Waiting for the operator...
--   Stalled=True                                        Degraded     the Stalled message
--   Reconciling=True                                    Progressing  the Reconciling message
--   Ready=True                                          Healthy      the Ready message
--   Ready=False, reason Progressing,                    Progressing  reason: message
--     AuthorizationServerUnavailable, SecretNotFound
--     or Deleting (the operator retries
--     and the resource can become Ready by itself)
--   Ready=False, any other reason (HydraRejected,       Degraded     reason: message
--     ClientIDConflict, SecretInvalid, ...: the spec or
--     the environment must change)
--   Ready=Unknown                                       Progressing  reason: message
--   no Ready condition yet                              Progressing  Waiting for the operator
--
-- Ready=False with AuthorizationServerUnavailable or SecretNotFound is Progressing, not
-- Degraded: both are waits the operator recovers from by itself (the authorization server comes
-- back; the Secret arrives from External Secrets or Sealed Secrets), and kstatus (Flux)
-- reports them as InProgress too. Argo CD keeps a sync wave waiting while a resource is
-- Progressing, so a Secret that requireExistingSecret waits for must be in the same or an
-- earlier sync wave than the OAuth2Client.

local hs = {}

local function conditionMessage(c)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c.reason ~= nil then
    return c.reason
  end
  return ""
end

local function withReason(c)
  if c.reason ~= nil and c.reason ~= "" then
    return c.reason .. ": " .. conditionMessage(c)
  end
  return conditionMessage(c)
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator"
  return hs
end

local ready = nil
local reconciling = nil
local stalled = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      ready = c
    elseif c.type == "Reconciling" then
      reconciling = c
    elseif c.type == "Stalled" then
      stalled = c
    end
  end
end

-- The conditions describe status.observedGeneration. While that is older than the spec, the
-- operator has not finished with the current spec: whatever Ready or Stalled say is about an
-- older one. Show what the operator is doing, if it says so.
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  if reconciling ~= nil and reconciling.status == "True" then
    hs.message = conditionMessage(reconciling)
  elseif observed == nil then
    hs.message = "Waiting for the operator to observe generation " .. generation
  else
    hs.message = "Waiting for the operator to observe generation " .. generation ..
      " (observed " .. observed .. ")"
  end
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = conditionMessage(stalled)
  return hs
end

if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = conditionMessage(reconciling)
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator"
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = conditionMessage(ready)
  return hs
end

if ready.status == "False" then
  local transient = {
    Progressing = true,
    AuthorizationServerUnavailable = true,
    -- written by versions before AuthorizationServerUnavailable, until the next pass
    HydraUnavailable = true,
    SecretNotFound = true,
    Deleting = true,
  }
  if ready.reason ~= nil and transient[ready.reason] then
    hs.status = "Progressing"
  else
    hs.status = "Degraded"
  end
  hs.message = withReason(ready)
  return hs
end

hs.status = "Progressing"
hs.message = withReason(ready)
return hs
