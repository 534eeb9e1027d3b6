using 'main.bicep'

param environmentName = 'dev'
param publicBaseUrl = 'https://hub-dev.petanque.example'
param enablePrivateNetworking = false
param maximumInstanceCount = 10
