// Private endpoints and DNS zones for storage (blob, queue, table) and Key Vault.
param location string
param subnetId string
param vnetId string
param storageId string
param vaultId string

var targets = [
  { name: 'blob', id: storageId, group: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { name: 'queue', id: storageId, group: 'queue', zone: 'privatelink.queue.${environment().suffixes.storage}' }
  { name: 'table', id: storageId, group: 'table', zone: 'privatelink.table.${environment().suffixes.storage}' }
  { name: 'vault', id: vaultId, group: 'vault', zone: 'privatelink.vaultcore.azure.net' }
]

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [for t in targets: {
  name: t.zone
  location: 'global'
}]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [for (t, i) in targets: {
  parent: zones[i]
  name: 'link-${t.name}'
  location: 'global'
  properties: { registrationEnabled: false, virtualNetwork: { id: vnetId } }
}]

resource endpoints 'Microsoft.Network/privateEndpoints@2024-01-01' = [for t in targets: {
  name: 'pe-${t.name}'
  location: location
  properties: {
    subnet: { id: subnetId }
    privateLinkServiceConnections: [{ name: t.name, properties: { privateLinkServiceId: t.id, groupIds: [t.group] } }]
  }
}]

resource dnsGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-01-01' = [for (t, i) in targets: {
  parent: endpoints[i]
  name: 'default'
  properties: { privateDnsZoneConfigs: [{ name: t.name, properties: { privateDnsZoneId: zones[i].id } }] }
}]
