#!/usr/bin/env bash
# Creates what Terraform/CDK would have created for the storefront in the ECS stand-in:
# one cluster per environment, the api and web task definitions and services (circuit
# breaker on, awslogs). Uses the aws CLI from the project virtualenv.
set -euo pipefail
aws="${AWS_CLI:-aws}"
registry=111111111111.dkr.ecr.us-east-1.amazonaws.com

task_definition() { # family container image
  cat <<JSON
{"family": "$1", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
 "cpu": "256", "memory": "512",
 "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
 "containerDefinitions": [{"name": "$2", "image": "$3", "essential": true,
   "portMappings": [{"containerPort": 8000}],
   "logConfiguration": {"logDriver": "awslogs", "options": {
     "awslogs-group": "/ecs/$1", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}}]}
JSON
}

# Names follow .github/deployer.yml: cluster storefront-{env} (production overrides it to
# storefront-prod), services api-{env} and web-{env}.
for env in dev staging production; do
  cluster="storefront-$env"
  [[ "$env" == production ]] && cluster=storefront-prod
  "$aws" ecs create-cluster --cluster-name "$cluster" >/dev/null
  for svc in api web; do
    family="$svc-$env"
    "$aws" ecs register-task-definition --cli-input-json "$(task_definition "$family" "$svc" "$registry/$svc:v0.1.0")" >/dev/null
    "$aws" ecs create-service --cluster "$cluster" --service-name "$svc-$env" \
      --task-definition "$family" --desired-count 2 --launch-type FARGATE \
      --network-configuration 'awsvpcConfiguration={subnets=[subnet-0a1b2c],securityGroups=[sg-0d1e2f],assignPublicIp=DISABLED}' \
      --deployment-configuration 'deploymentCircuitBreaker={enable=true,rollback=true},maximumPercent=200,minimumHealthyPercent=100' >/dev/null
  done
done
echo "created clusters storefront-dev, storefront-staging, storefront-prod with services api-{env} and web-{env}"
