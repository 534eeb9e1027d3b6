using 'main.bicep'

param environmentName = 'prod'
param publicBaseUrl = 'https://hub.petanque.example'
param enablePrivateNetworking = true
param maximumInstanceCount = 100
