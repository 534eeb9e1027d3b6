// Integration Hub on Azure: Function App (Flex Consumption, Python 3.11) with a system-assigned managed
// identity, storage without shared keys (identity-based connections), Key Vault with RBAC, Application
// Insights on Log Analytics. No connection strings or keys anywhere.
targetScope = 'resourceGroup'

@description('Short environment name: dev, test or prod.')
@allowed(['dev', 'test', 'prod'])
param environmentName string

@description('Azure region.')
param location string = resourceGroup().location

@description('Base name; resources get <base>-<env> style names.')
@minLength(3)
@maxLength(11)
param baseName string = 'inthub'

@description('Public URL the hub is reached at (OAuth redirect target).')
param publicBaseUrl string

@description('Integrate the Function App with a VNet and put storage and Key Vault behind private endpoints.')
param enablePrivateNetworking bool = false

@description('Address space of the VNet when private networking is enabled.')
param vnetAddressPrefix string = '10.42.0.0/16'

@description('Subnet delegated to the Function App (VNet integration).')
param functionsSubnetPrefix string = '10.42.0.0/24'

@description('Subnet for private endpoints.')
param endpointsSubnetPrefix string = '10.42.1.0/24'

@description('Maximum instances of the Flex Consumption app.')
param maximumInstanceCount int = 40

var suffix = uniqueString(resourceGroup().id, environmentName)
var storageName = toLower('${baseName}${environmentName}${take(suffix, 8)}')
var vaultName = toLower('${baseName}-${environmentName}-${take(suffix, 6)}')
var appName = '${baseName}-${environmentName}-func'
var deploymentContainer = 'app-package'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${baseName}-${environmentName}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${baseName}-${environmentName}-ai'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true // telemetry is sent with the app's identity, not an instrumentation key
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: public network access is denied when enablePrivateNetworking is true; without a VNet the Flex app reaches storage over the public endpoint (identity-only, shared keys disabled)
  // checkov:skip=CKV_AZURE_43: the name is computed (toLower/uniqueString) and valid; checkov cannot evaluate it
  name: storageName
  location: location
  sku: { name: 'Standard_GZRS' } // zone- and geo-redundant: outbox and audit rows are the hub's memory
  kind: 'StorageV2'
  properties: {
    allowSharedKeyAccess: false // identity-based connections only
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    publicNetworkAccess: enablePrivateNetworking ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: enablePrivateNetworking ? 'Deny' : 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: { enabled: true }
        file: { enabled: true }
        queue: { enabled: true, keyType: 'Account' }
        table: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource packages 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
  properties: { publicAccess: 'None' }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: the firewall denies by default when enablePrivateNetworking is true; without a VNet access is RBAC-only from the app's identity
  name: vaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: enablePrivateNetworking ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: enablePrivateNetworking ? 'Deny' : 'Allow'
    }
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: Flex Consumption plans have no zoneRedundant SKU flag in this API version; availability comes from the platform's instance placement
  name: '${baseName}-${environmentName}-plan'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-01-01' = if (enablePrivateNetworking) {
  name: '${baseName}-${environmentName}-vnet'
  location: location
  properties: {
    addressSpace: { addressPrefixes: [vnetAddressPrefix] }
    subnets: [
      {
        name: 'functions'
        properties: {
          addressPrefix: functionsSubnetPrefix
          delegations: [{ name: 'flex', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        name: 'private-endpoints'
        properties: { addressPrefix: endpointsSubnetPrefix }
      }
    ]
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: the API is public by design (integrators and the tenant portal call it); every route authenticates and rate-limits
  // checkov:skip=CKV_AZURE_17: callers authenticate with scoped API keys / OAuth tokens, not client certificates
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero; always-ready instances are a per-environment cost decision
  name: appName
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: enablePrivateNetworking ? vnet.properties.subnets[0].id : null
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: maximumInstanceCount, instanceMemoryMB: 2048 }
      runtime: { name: 'python', version: '3.11' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      healthCheckPath: '/api/health'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'HUB_ENVIRONMENT', value: environmentName == 'prod' ? 'production' : 'test' }
        { name: 'HUB_SECRET_STORE', value: 'keyvault' }
        { name: 'HUB_KEY_VAULT_URL', value: vault.properties.vaultUri }
        // HMAC keys of the hub itself live in Key Vault and reach the app as Key Vault references.
        { name: 'HUB_API_KEY_PEPPER', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=hub-api-key-pepper)' }
        { name: 'HUB_STATE_SIGNING_KEY', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=hub-state-signing-key)' }
        { name: 'HUB_PUBLIC_BASE_URL', value: publicBaseUrl }
        { name: 'HUB_DUE_SYNCS_SCHEDULE', value: '0 * * * * *' } // NCRONTAB: the timer that enqueues due syncs
        { name: 'HUB_SUBSCRIPTIONS_SCHEDULE', value: '0 */10 * * * *' } // renews calendar change subscriptions
        { name: 'HUB_KEY_ROTATION_SCHEDULE', value: '0 15 3 * * *' } // rotates the JWT signing key when it is due
        { name: 'HUB_QUEUE_SYNC_JOBS', value: 'hub-sync-jobs' }
        { name: 'HUB_QUEUE_WEBHOOK_EVENTS', value: 'hub-webhook-events' }
        { name: 'HUB_QUEUE_INTEGRATION_EVENTS', value: 'hub-integration-events' }
        { name: 'HUB_QUEUE_ALERT_WEBHOOKS', value: 'hub-alert-webhooks' }
        { name: 'HUB_QUEUE_WEBHOOK_DELIVERIES', value: 'hub-webhook-deliveries' }
        { name: 'HUB_QUEUE_EVENT_FANOUT', value: 'hub-event-fanout' }
        { name: 'HUB_QUEUE_EVENT_DELIVERIES', value: 'hub-event-deliveries' }
        { name: 'HUB_QUEUE_OUTBOUND_CALLS', value: 'hub-outbound-calls' }
      ]
    }
  }
}

// Role assignments, as narrow as the design allows: data-plane roles on the one storage account and vault.
var roles = {
  blobOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner (host leases, deployment package)
  queueContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  tableContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
  secretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // Key Vault Secrets Officer (credential intake writes)
  metricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher (AAD telemetry)
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.blobOwner, roles.queueContributor, roles.tableContributor]: {
  name: guid(storage.id, app.id, role)
  scope: storage
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

// The hub both writes (intake, OAuth grants, rotation) and reads secrets, so it needs Secrets Officer; it is
// scoped to this vault, which holds nothing but the hub's secrets.
resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, app.id, roles.secretsOfficer)
  scope: vault
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.secretsOfficer)
  }
}

resource telemetryRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, app.id, roles.metricsPublisher)
  scope: insights
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.metricsPublisher)
  }
}

module privateEndpoints 'private-endpoints.bicep' = if (enablePrivateNetworking) {
  name: 'private-endpoints'
  params: {
    location: location
    subnetId: enablePrivateNetworking ? vnet.properties.subnets[1].id : ''
    vnetId: enablePrivateNetworking ? vnet.id : ''
    storageId: storage.id
    vaultId: vault.id
  }
}

output functionAppName string = app.name
output keyVaultUri string = vault.properties.vaultUri
output storageAccountName string = storage.name
